from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import httpx
import pytest

from loadtests.users.market import (
    Market,
    MarketError,
    SymbolRules,
    connect,
    plain,
    rules_from_exchange_info,
)

BTC = SymbolRules("BTCUSDT", Decimal("0.10"), Decimal("0.001"), Decimal("0.001"), Decimal(100))
INFO: dict[str, Any] = {
    "symbols": [
        {
            "symbol": "BTCUSDT",
            "filters": [
                {"filterType": "PRICE_FILTER", "tickSize": "0.10", "minPrice": "1"},
                {"filterType": "LOT_SIZE", "stepSize": "0.001", "minQty": "0.001"},
                {"filterType": "MIN_NOTIONAL", "notional": "100"},
            ],
        }
    ]
}


def test_rules_come_from_exchange_info() -> None:
    assert rules_from_exchange_info(INFO, ["BTCUSDT"]) == {"BTCUSDT": BTC}


def test_a_symbol_the_target_does_not_list_is_an_error() -> None:
    with pytest.raises(MarketError, match="ETHUSDT"):
        rules_from_exchange_info(INFO, ["ETHUSDT"])


def test_a_symbol_without_its_filters_is_an_error() -> None:
    info = {"symbols": [{"symbol": "BTCUSDT", "filters": []}]}
    with pytest.raises(MarketError, match="PRICE_FILTER"):
        rules_from_exchange_info(info, ["BTCUSDT"])


def test_prices_sit_on_the_tick_away_from_the_touch() -> None:
    assert BTC.price(Decimal("100.17"), side="BUY") == Decimal("100.1")
    assert BTC.price(Decimal("100.11"), side="SELL") == Decimal("100.2")


def test_quantities_clear_the_minimum_notional_twice_over_on_the_step() -> None:
    qty = BTC.quantity(Decimal(122_500))
    assert qty == Decimal("0.002")
    assert qty * Decimal(122_500) / 2 >= 100
    assert BTC.quantity(Decimal(1_000_000)) == Decimal("0.001")


def test_resting_prices_stay_inside_the_percent_price_band() -> None:
    market = Market({"BTCUSDT": BTC}, {"BTCUSDT": Decimal(100_000)})
    rng = random.Random(3)
    for _ in range(200):
        bid = market.resting_price("BTCUSDT", "BUY", rng)
        ask = market.resting_price("BTCUSDT", "SELL", rng)
        assert Decimal(95_000) <= bid < Decimal(100_000) < ask <= Decimal(105_000)


def test_marks_follow_updates_of_known_symbols_only() -> None:
    market = Market({"BTCUSDT": BTC}, {"BTCUSDT": Decimal(100)})
    market.update_mark("BTCUSDT", Decimal(90))
    market.update_mark("XRPUSDT", Decimal(1))
    market.update_mark("BTCUSDT", Decimal(0))
    assert market.mark("BTCUSDT") == 90
    with pytest.raises(MarketError, match="no mark"):
        Market({"BTCUSDT": BTC}, {})


def test_plain_decimals_have_no_exponent() -> None:
    assert [plain(Decimal(x)) for x in ("0.0010", "1E+2", "122500.0")] == ["0.001", "100", "122500"]


def test_connect_reads_rules_marks_and_the_server_clock() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        match request.url.path:
            case "/fapi/v1/exchangeInfo":
                return httpx.Response(200, json=INFO)
            case "/fapi/v1/premiumIndex":
                return httpx.Response(200, json={"symbol": "BTCUSDT", "markPrice": "101.5"})
            case _:
                return httpx.Response(200, json={"serverTime": 4_102_444_800_000})

    http = httpx.Client(base_url="http://target", transport=httpx.MockTransport(answer))
    connection = connect(http, ["BTCUSDT"])
    assert connection.market.mark("BTCUSDT") == Decimal("101.5")
    assert connection.clock_offset_ms > 1_000_000_000


def test_connect_names_what_the_target_failed_to_answer() -> None:
    http = httpx.Client(
        base_url="http://target",
        transport=httpx.MockTransport(lambda request: httpx.Response(503, text="down")),
    )
    with pytest.raises(MarketError, match=r"exchangeInfo.*503"):
        connect(http, ["BTCUSDT"])
