"""Risk through a real exchange process: funding charged every interval and pushed as
FUNDING_FEE, ADL quantiles on positionRisk, premiumIndex's index and funding, collateral in the
account's totals and in the margin check, a MARGIN_CALL on the listen key when a price move
takes an account past the margin-call level, and the audit passing after all of it.

The exchange runs ten times faster than real time, so its 30 s funding interval settles every
3 s and ADL quantiles are ranked every 3 s. BTCUSDT's first bracket is 5% at 10x and the
margin-call level 60%, so the price zone between a margin call and liquidation spans several
percent: a shock aimed at its middle lands in it whatever the market's own drift."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from decimal import ROUND_DOWN, Decimal
from importlib import resources
from typing import Any

import httpx
import pytest
import yaml

from exchange_mock.accounts import AccountBook
from exchange_mock.redis_server import EmbeddedRedis, free_port
from exchange_mock.server import exchange_process
from tests.integration.conftest import Exchange, exchange_settings, wait_for_books
from tests.integration.signed import SignedClient
from tests.integration.test_liquidation_pipeline import until as poll
from tests.integration.test_ws import is_user, listen_key
from tests.integration.wsclient import connect, next_message, until, ws_url

PERIOD_MS = 3_000
"""The funding interval and the ADL refresh, in real time: 30 s at ten times real time."""
MARGIN_CALL = Decimal("0.6")


@pytest.fixture(scope="module")
def exchange(
    redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Exchange]:
    table = yaml.safe_load(
        resources.files("exchange_mock.data").joinpath("symbols.yaml").read_text()
    )
    for spec in table["symbols"]:
        if spec["symbol"] == "BTCUSDT":
            spec["brackets"] = [
                {"notional_cap": "100000000", "max_leverage": 10, "mmr": "0.05"},
                {"notional_cap": "1000000000", "max_leverage": 1, "mmr": "0.50"},
            ]
    symbols_file = tmp_path_factory.mktemp("contracts") / "symbols.yaml"
    symbols_file.write_text(yaml.safe_dump(table))
    settings = exchange_settings(
        redis_server,
        f"it-risk-wire-{time.time_ns()}",
        port=free_port(),
        symbols_file=symbols_file,
        time_scale=10,
        funding_interval_ms=30_000,
        margin_call_ratio=MARGIN_CALL,
    )
    with exchange_process(settings):
        url = f"http://127.0.0.1:{settings.port}"
        wait_for_books(url)
        yield Exchange(url, settings)


async def buy(client: SignedClient, quantity: str) -> dict[str, Any]:
    order: dict[str, Any] = await client.ok(
        "POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="MARKET",
        quantity=quantity, newOrderRespType="RESULT",
    )  # fmt: skip
    assert Decimal(order["executedQty"]) == Decimal(quantity), order
    return order


async def test_funding_is_charged_every_interval_and_pushed_as_a_funding_fee(
    exchange: Exchange, http: httpx.AsyncClient, accounts: AccountBook
) -> None:
    trader = SignedClient(http, accounts.traders[0])
    key = await listen_key(http, trader)
    async with connect(ws_url(exchange.url, f"/ws/{key}")) as ws:
        await buy(trader, "0.010")
        fees = [
            await until(
                ws, lambda m: m.get("e") == "ACCOUNT_UPDATE" and m["a"]["m"] == "FUNDING_FEE", 8
            )
            for _ in range(2)
        ]
    # One per interval, each soon after the interval's end (the oracle samples once a second).
    first, second = (fee.body for fee in fees)
    assert second["E"] // PERIOD_MS == first["E"] // PERIOD_MS + 1
    assert all(body["E"] % PERIOD_MS < 2_000 for body in (first, second))
    for body in (first, second):
        (balance,) = body["a"]["B"]
        assert body["a"]["P"] == [], "cross margin: the balance alone"
        paid = -Decimal(balance["bc"])
        # The long pays: at least the interest rate's share of 0.01 BTC, at most the cap's.
        assert Decimal("0.05") < paid < Decimal("0.003") * 2_000, balance
    assert Decimal(second["a"]["B"][0]["wb"]) == Decimal(first["a"]["B"][0]["wb"]) - paid


async def test_funding_history_and_income_record_every_settlement(
    http: httpx.AsyncClient, accounts: AccountBook
) -> None:
    """After the funding test: its intervals are in fundingRate, oldest first, and what the
    trader paid each time is a FUNDING_FEE in its income history."""
    trader = SignedClient(http, accounts.traders[0])

    async def settled() -> list[dict[str, Any]] | None:
        rows = await trader.ok("GET", "/fapi/v1/income", incomeType="FUNDING_FEE")
        return rows if len(rows) >= 2 else None

    fees = await poll(settled, 2 * PERIOD_MS / 1_000 + 2)
    assert all(Decimal(fee["income"]) < 0 and fee["symbol"] == "BTCUSDT" for fee in fees)
    history = (await http.get("/fapi/v1/fundingRate", params={"symbol": "BTCUSDT"})).json()
    times = [row["fundingTime"] for row in history]
    assert len(times) >= 2 and times == sorted(times)
    assert all(t % PERIOD_MS == 0 for t in times)
    assert all(Decimal(row["markPrice"]) > 0 and row["symbol"] == "BTCUSDT" for row in history)
    latest = (await http.get("/fapi/v1/fundingRate", params={"limit": 1})).json()
    assert [row["fundingTime"] for row in latest] == [max(times)]


async def test_position_risk_shows_the_positions_adl_quantile(
    http: httpx.AsyncClient, accounts: AccountBook
) -> None:
    """With fewer than five longs, every long is in a fifth of its own: a quantile of 1 to 4."""
    trader = SignedClient(http, accounts.traders[1])
    await buy(trader, "0.005")

    async def ranked() -> int:
        rows = await trader.ok("GET", "/fapi/v3/positionRisk", symbol="BTCUSDT")
        quantile: int = rows[0]["adl"] if rows else 0
        return quantile

    assert 1 <= await poll(ranked, 2 * PERIOD_MS / 1_000 + 2) <= 4


async def test_premium_index_shows_the_index_the_mark_came_from_and_the_funding(
    exchange: Exchange, http: httpx.AsyncClient
) -> None:
    """Read together with the mark stream's update of the same mark: the same index (`i`) and
    rate (`r`), and the next funding at the end of the current interval."""
    readings: list[tuple[dict[str, Any], dict[str, Any]]] = []
    async with (
        connect(ws_url(exchange.url, "/ws/btcusdt@markPrice@1s")) as ws,
        asyncio.timeout(20),
    ):
        while len(readings) < 2:
            stream = (await next_message(ws, 3)).body
            body = (await http.get("/fapi/v1/premiumIndex", params={"symbol": "BTCUSDT"})).json()
            if body["time"] == stream["E"]:
                readings.append((stream, body))
    for stream, body in readings:
        assert Decimal(body["indexPrice"]) == Decimal(stream["i"])
        assert body["estimatedSettlePrice"] == body["indexPrice"]
        assert Decimal(body["markPrice"]) == Decimal(stream["p"])
        assert Decimal(body["lastFundingRate"]) == Decimal(stream["r"])
        assert body["nextFundingTime"] % PERIOD_MS == 0
        assert 0 < body["nextFundingTime"] - body["time"] <= PERIOD_MS + 1_000
    assert any(body["indexPrice"] != body["markPrice"] for _, body in readings)


async def test_collateral_counts_in_the_totals_as_in_the_margin_check(
    http: httpx.AsyncClient, accounts: AccountBook
) -> None:
    """100,000 USDT and 25,000 USDE (at 0.97 to 1.00, less 5%): an order holding 105,000 of
    margin at 1x passes only because the collateral counts; 20,000 more does not."""
    trader = SignedClient(http, accounts.traders[2])
    account = await trader.ok("GET", "/fapi/v3/account")
    wallet = Decimal(account["totalWalletBalance"])
    assert 100_000 + 25_000 * Decimal("0.97") * Decimal("0.95") <= wallet
    assert wallet <= 100_000 + 25_000 * Decimal("0.95")
    assert Decimal(account["availableBalance"]) == wallet, "nothing committed yet"
    usdt, usde, *others = account["assets"]
    assert (usdt["asset"], Decimal(usdt["walletBalance"])) == ("USDT", Decimal(100_000))
    assert (usde["asset"], Decimal(usde["walletBalance"])) == ("USDE", Decimal(25_000))
    # Binance's other margin assets, at zero.
    assert [row["asset"] for row in others] == ["BTC", "ETH", "BNB", "USDC", "FDUSD", "BFUSD"]
    assert all(Decimal(row["walletBalance"]) == 0 for row in others)
    balances = await trader.ok("GET", "/fapi/v2/balance")
    assert [(b["asset"], Decimal(b["balance"])) for b in balances][:2] == [
        ("USDT", Decimal(100_000)),
        ("USDE", Decimal(25_000)),
    ]
    await trader.ok("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=1)
    mark = (await http.get("/fapi/v1/premiumIndex", params={"symbol": "BTCUSDT"})).json()
    price = (Decimal(mark["markPrice"]) * Decimal("0.96")).quantize(Decimal("0.1"), ROUND_DOWN)

    def quantity(notional: int) -> str:
        return str((notional / price).quantize(Decimal("0.001"), ROUND_DOWN))

    async def bid(notional: int) -> httpx.Response:
        return await trader.send(
            "POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
            timeInForce="GTC", price=str(price), quantity=quantity(notional),
        )  # fmt: skip

    placed = await bid(105_000)
    assert placed.status_code == 200, placed.text
    assert placed.json()["status"] == "NEW"

    # USDT's 100,000 holds what it can of the bid's margin and USDE the rest, so each asset's
    # available and initial margin still add up to its balance, as ccxt checks.
    async def holding() -> Any:
        body = await trader.ok("GET", "/fapi/v3/account")
        return body if Decimal(body["totalInitialMargin"]) > 0 else None

    held = await poll(holding)
    usdt, usde, *_ = held["assets"]
    assert (Decimal(usdt["availableBalance"]), Decimal(usdt["initialMargin"])) == (0, 100_000)
    assert 0 < Decimal(usde["initialMargin"]) < Decimal(25_000)
    for row in held["assets"]:
        margin = Decimal(row["availableBalance"]) + Decimal(row["initialMargin"])
        assert margin == Decimal(row["marginBalance"]), row["asset"]
    refused = await bid(20_000)
    assert (refused.status_code, refused.json()["code"]) == (400, -2019)
    await trader.ok("DELETE", "/fapi/v1/allOpenOrders", symbol="BTCUSDT")


async def test_open_orders_hold_margin_in_the_account_read_as_in_the_margin_check(
    http: httpx.AsyncClient, accounts: AccountBook
) -> None:
    """A resting bid at 2x holds half its notional: the reads show it as open-order margin and
    take it off availableBalance, and what is left is what the engine lets a second bid commit."""
    trader = SignedClient(http, accounts.traders[4])
    await trader.ok("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=2)
    wallet = Decimal((await trader.ok("GET", "/fapi/v3/account"))["availableBalance"])
    mark = (await http.get("/fapi/v1/premiumIndex", params={"symbol": "BTCUSDT"})).json()
    price = (Decimal(mark["markPrice"]) * Decimal("0.9")).quantize(Decimal("0.1"), ROUND_DOWN)

    async def bid(notional: Decimal) -> httpx.Response:
        quantity = (notional / price).quantize(Decimal("0.001"), ROUND_DOWN)
        return await trader.send(
            "POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
            timeInForce="GTC", price=str(price), quantity=str(quantity),
        )  # fmt: skip

    first = await bid(wallet)
    assert first.status_code == 200, first.text
    notional = price * Decimal(first.json()["origQty"])

    async def read(committed: Decimal) -> dict[str, Any] | None:
        account: dict[str, Any] = await trader.ok("GET", "/fapi/v3/account")
        held = Decimal(account["totalOpenOrderInitialMargin"])
        return account if held == committed else None

    account = await poll(lambda: read(notional / 2))
    assert Decimal(account["totalInitialMargin"]) == notional / 2
    assert Decimal(account["totalPositionInitialMargin"]) == 0
    left = Decimal(account["availableBalance"])
    assert left == wallet - notional / 2
    (position,) = await trader.ok("GET", "/fapi/v3/positionRisk", symbol="BTCUSDT")
    assert Decimal(position["positionAmt"]) == 0, "v3 lists a symbol with open orders too"
    assert Decimal(position["bidNotional"]) == notional
    assert Decimal(position["openOrderInitialMargin"]) == notional / 2

    refused = await bid(left * 2 * Decimal("1.02"))
    assert (refused.status_code, refused.json()["code"]) == (400, -2019)
    fits = await bid(left * 2 * Decimal("0.98"))
    assert fits.status_code == 200, fits.text
    await trader.ok("DELETE", "/fapi/v1/allOpenOrders", symbol="BTCUSDT")
    account = await poll(lambda: read(Decimal(0)))
    assert Decimal(account["availableBalance"]) == wallet


async def test_a_price_move_past_the_margin_call_level_pushes_a_margin_call(
    exchange: Exchange, http: httpx.AsyncClient, accounts: AccountBook
) -> None:
    """A long at 10x, 5% of maintenance margin: with equity E, margin MM and notional N at
    the mark, a move x of the price brings the ratio to 60% at x = (MM − 0.6·E) / (0.6·N − MM)
    and liquidation at x = (MM − E) / (N − MM). The shock aims between the two."""
    trader = SignedClient(http, accounts.traders[3])
    await trader.ok("POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=10)
    key = await listen_key(http, trader)
    await buy(trader, "6.000")
    account = await trader.ok("GET", "/fapi/v3/account")
    (position,) = await trader.ok("GET", "/fapi/v3/positionRisk", symbol="BTCUSDT")
    equity = Decimal(account["totalMarginBalance"])
    margin = Decimal(account["totalMaintMargin"])
    notional = Decimal(position["notional"])
    call = (margin - MARGIN_CALL * equity) / (MARGIN_CALL * notional - margin)
    liquidation = (margin - equity) / (notional - margin)
    assert liquidation < call - Decimal("0.02") < 0, (call, liquidation)
    async with connect(ws_url(exchange.url, f"/ws/{key}")) as ws:
        shock = {"symbol": "BTCUSDT", "pct": float((call + liquidation) / 2 * 100)}
        shocked = await http.post("/stampede/admin/shock", json=shock)
        assert shocked.status_code == 200, shocked.text
        called = (await until(ws, is_user("MARGIN_CALL"), 10)).body
    (held,) = called["p"]
    assert (held["s"], held["pa"], held["ps"], held["mt"]) == (
        "BTCUSDT",
        "6.000",
        "BOTH",
        "CROSSED",
    )
    mark = Decimal(held["mp"])
    assert mark < Decimal(position["markPrice"]) * (1 + call)
    unrealized, maintenance = Decimal(held["up"]), Decimal(held["mm"])
    cross_wallet = Decimal(called["cw"])
    assert maintenance == (mark * 6 * Decimal("0.05")).quantize(Decimal("1E-8"), ROUND_DOWN)
    # Past 60%, short of liquidation.
    assert MARGIN_CALL * (cross_wallet + unrealized) <= maintenance < cross_wallet + unrealized
    (still,) = await trader.ok("GET", "/fapi/v3/positionRisk", symbol="BTCUSDT")
    assert still["positionAmt"] == "6.000", "called, not liquidated"


async def test_the_audit_passes_after_funding_margin_calls_and_collateral(
    http: httpx.AsyncClient,
) -> None:
    async def quiet() -> dict[str, Any] | None:
        report: dict[str, Any] = (await http.get("/stampede/audit")).json()
        return report if report["quiet"] else None

    report = await poll(quiet)
    assert report["passed"], report
