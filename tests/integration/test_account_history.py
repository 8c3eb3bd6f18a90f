"""An account's orders and fills on a real exchange, from the journal through the read model:
allOrders lists open and finished orders, userTrades each fill with its fee, and the realized
PnL of the fills adds up to what the wallet received."""

from __future__ import annotations

import time
from decimal import Decimal

import httpx

from exchange_mock.accounts import AccountBook
from tests.integration.signed import SignedClient
from tests.integration.test_orders import best, eventually


async def test_all_orders_and_user_trades_tell_the_accounts_story(
    http: httpx.AsyncClient, accounts: AccountBook
) -> None:
    started = int(time.time() * 1000) - 1
    client = SignedClient(http, accounts.traders[0])
    bid, _ask = await best(http, "BTCUSDT")
    low = str((bid * Decimal("0.9")).quantize(Decimal("0.1")))
    resting = await client.ok(
        "POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
        timeInForce="GTC", quantity="0.002", price=low,
    )  # fmt: skip
    bought = await client.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY",
                             type="MARKET", quantity="0.01")  # fmt: skip
    sold = await client.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="SELL",
                           type="MARKET", quantity="0.01")  # fmt: skip
    ids = [resting["orderId"], bought["orderId"], sold["orderId"]]

    listed = await eventually(
        client, "/fapi/v1/allOrders",
        lambda rows: [r["orderId"] for r in rows] == ids and rows[-1]["status"] == "FILLED",
        symbol="BTCUSDT",
    )  # fmt: skip
    assert [r["status"] for r in listed.json()] == ["NEW", "FILLED", "FILLED"]
    later = await client.ok("GET", "/fapi/v1/allOrders", symbol="BTCUSDT", orderId=ids[1])
    assert [r["orderId"] for r in later] == ids[1:]
    by_time = await client.ok("GET", "/fapi/v1/allOrders", symbol="BTCUSDT", startTime=started)
    assert [r["orderId"] for r in by_time] == ids
    newest = await client.ok("GET", "/fapi/v1/allOrders", symbol="BTCUSDT", limit=1)
    assert [r["orderId"] for r in newest] == ids[-1:]

    fills = (
        await eventually(
            client,
            "/fapi/v1/userTrades",
            lambda rows: {r["orderId"] for r in rows} == set(ids[1:]),
            symbol="BTCUSDT",
        )
    ).json()
    assert {(f["side"], f["maker"], f["commissionAsset"]) for f in fills} == {
        ("BUY", False, "USDT"),
        ("SELL", False, "USDT"),
    }
    for fill in fills:
        notional = Decimal(fill["price"]) * Decimal(fill["qty"])
        assert Decimal(fill["quoteQty"]) == notional
        assert Decimal(fill["commission"]) == (notional * Decimal("0.0005")).quantize(
            Decimal("0.00000001"), rounding="ROUND_FLOOR"
        )
    bought_at = [Decimal(f["price"]) * Decimal(f["qty"]) for f in fills if f["side"] == "BUY"]
    sold_at = [Decimal(f["price"]) * Decimal(f["qty"]) for f in fills if f["side"] == "SELL"]
    # Round trip: the sells realize exactly what was paid versus received.
    assert sum(Decimal(f["realizedPnl"]) for f in fills) == sum(sold_at) - sum(bought_at)

    one = await client.ok("GET", "/fapi/v1/userTrades", symbol="BTCUSDT", orderId=ids[2])
    assert {f["orderId"] for f in one} == {ids[2]}
    after = await client.ok("GET", "/fapi/v1/userTrades", symbol="BTCUSDT", fromId=fills[-1]["id"])
    assert [f["id"] for f in after] == [fills[-1]["id"]]
    clash = await client.send(
        "GET", "/fapi/v1/userTrades", symbol="BTCUSDT", fromId=1, startTime=started
    )
    assert clash.json()["code"] == -1128
    assert await client.ok("GET", "/fapi/v1/userTrades", symbol="ETHUSDT") == []


async def test_income_adds_up_to_the_wallet(http: httpx.AsyncClient, accounts: AccountBook) -> None:
    client = SignedClient(http, accounts.traders[1])
    for side in ("BUY", "SELL"):
        await client.ok("POST", "/fapi/v1/order", symbol="ETHUSDT", side=side, type="MARKET",
                        quantity="0.05")  # fmt: skip

    def settled(rows: list[dict[str, str]]) -> bool:
        return [r["incomeType"] for r in rows].count("COMMISSION") == 2

    rows = (await eventually(client, "/fapi/v1/income", settled)).json()
    kinds = [r["incomeType"] for r in rows]
    assert kinds[0] == "TRANSFER" and Decimal(rows[0]["income"]) == 100_000
    assert kinds.count("REALIZED_PNL") == 1
    assert [r["tranId"] for r in rows] == sorted({r["tranId"] for r in rows})
    traded = [r for r in rows if r["incomeType"] != "TRANSFER"]
    assert {r["symbol"] for r in traded} == {"ETHUSDT"} and all(r["tradeId"] for r in traded)
    [usdt] = [a for a in await client.ok("GET", "/fapi/v2/balance") if a["asset"] == "USDT"]
    assert sum(Decimal(r["income"]) for r in rows) == Decimal(usdt["balance"])

    fees = await client.ok("GET", "/fapi/v1/income", incomeType="COMMISSION", limit=1, page=2)
    assert [(r["incomeType"], r["tranId"]) for r in fees] == [
        (r["incomeType"], r["tranId"]) for r in rows if r["incomeType"] == "COMMISSION"
    ][1:]
    assert await client.ok("GET", "/fapi/v1/income", symbol="BTCUSDT") == []
