"""An unmodified ccxt `binanceusdm` client, pointed at the mock by URL overrides only."""

from __future__ import annotations

import time
from typing import Any

import pytest

from exchange_mock.accounts import AccountBook
from tests.integration.conftest import Exchange, ccxt_client

BTC = "BTC/USDT:USDT"


@pytest.fixture
def client(exchange: Exchange, accounts: AccountBook) -> Any:
    return ccxt_client(exchange, accounts.traders[5])


def test_ccxt_trades_on_the_mock_with_correct_values(client: Any, exchange: Exchange) -> None:
    markets = client.load_markets()
    assert {BTC, "ETH/USDT:USDT"} <= set(markets)
    assert markets[BTC]["precision"]["amount"] == 0.001
    assert markets[BTC]["limits"]["cost"]["min"] == 100

    ticker = client.fetch_ticker(BTC)
    book = client.fetch_order_book(BTC, limit=5)
    bid, ask = book["bids"][0][0], book["asks"][0][0]
    assert 0 < bid < ask
    assert ticker["symbol"] == BTC

    resting = client.create_order(BTC, "limit", "buy", 0.002, round(bid * 0.98, 1))
    assert resting["status"] == "open"
    assert resting["amount"] == 0.002
    cancelled = client.cancel_order(resting["id"], BTC)
    assert cancelled["status"] == "canceled"

    balance = client.fetch_balance()
    assert balance["USDT"]["total"] == pytest.approx(100_000)
    assert _wallet(balance) == 100_000
    bought = client.create_order(BTC, "market", "buy", 0.01)
    assert bought["status"] == "closed"
    assert bought["filled"] == 0.01
    assert bought["average"] == pytest.approx(ask, rel=0.01)

    positions = _wait_for_position(client)
    assert positions[0]["contracts"] == 0.01
    assert positions[0]["side"] == "long"
    assert positions[0]["entryPrice"] == pytest.approx(bought["average"], rel=1e-6)
    fee = bought["average"] * 0.01 * 0.0005
    balance = client.fetch_balance()
    assert _wallet(balance) == pytest.approx(100_000 - fee, abs=1e-6)
    # ccxt's total is the margin balance: wallet plus unrealized PnL at the (moving) mark.
    assert balance["USDT"]["total"] == pytest.approx(100_000 - fee, abs=2)


def _wallet(balance: dict[str, Any]) -> float:
    [usdt] = [a for a in balance["info"]["assets"] if a["asset"] == "USDT"]
    return float(usdt["walletBalance"])


def _wait_for_position(client: Any) -> list[dict[str, Any]]:
    """The read model may trail the fill by a few milliseconds: read until it shows it."""
    deadline = time.monotonic() + 10
    while True:
        positions = [p for p in client.fetch_positions([BTC]) if p["contracts"]]
        if positions or time.monotonic() > deadline:
            return positions
        time.sleep(0.05)


def test_ccxt_reads_the_leverage_brackets_for_one_symbol_and_for_all(client: Any) -> None:
    # ccxt's own suite calls fetch_leverage_tiers([[symbol]]) (a list in a list: its defect, see
    # conformance/scope.yaml); called as a bot calls it, the mock's layout parses, for one
    # symbol and for every symbol alike.
    client.load_markets()

    one = client.fetch_leverage_tiers([BTC])
    every = client.fetch_leverage_tiers()

    assert set(one) == {BTC}
    assert {BTC, "ETH/USDT:USDT"} <= set(every)
    first = one[BTC][0]
    assert (first["tier"], first["minNotional"], first["maxNotional"]) == (1, 0, 50_000)
    assert first["maintenanceMarginRate"] == 0.004
    assert one[BTC] == every[BTC]
