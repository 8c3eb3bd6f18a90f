"""The routes a trading bot calls at start-up and in a cascade, on a real exchange: tickers from
the genesis price, the book's top, fees, ADL quantiles, and the position settings the engine
keeps (one-way, cross) refused away from with Binance's codes."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import httpx

from exchange_mock.accounts import AccountBook
from exchange_mock.symbols import SymbolTable
from tests.integration.conftest import trading_symbols
from tests.integration.signed import SignedClient
from tests.integration.test_orders import best, eventually

STARTED_MS = int(time.time() * 1000)


async def test_a_fresh_venue_quotes_the_genesis_price_with_real_times(
    http: httpx.AsyncClient,
) -> None:
    """First in the module: nobody has traded yet, and the tickers still have a last price."""
    reference = SymbolTable.load().by_name["BTCUSDT"].reference_price
    day = (await http.get("/fapi/v1/ticker/24hr", params={"symbol": "BTCUSDT"})).json()
    assert Decimal(day["lastPrice"]) == Decimal(day["openPrice"]) == reference
    assert (day["count"], Decimal(day["volume"])) == (0, 0)
    assert day["closeTime"] >= day["openTime"] > STARTED_MS - 60_000
    for path in ("/fapi/v1/ticker/price", "/fapi/v2/ticker/price"):
        every = (await http.get(path)).json()
        assert {each["symbol"] for each in every} >= {"BTCUSDT", "ETHUSDT"}
        [price] = [each for each in every if each["symbol"] == "BTCUSDT"]
        assert Decimal(price["price"]) == reference
        assert price["time"] > STARTED_MS - 60_000


async def test_book_ticker_is_the_top_of_the_book(http: httpx.AsyncClient) -> None:
    bid, ask = await best(http, "BTCUSDT")
    top = (await http.get("/fapi/v1/ticker/bookTicker", params={"symbol": "BTCUSDT"})).json()
    # The makers requote between the two reads: the top is near the depth's, never crossed.
    assert Decimal(top["bidPrice"]) < Decimal(top["askPrice"])
    assert abs(Decimal(top["bidPrice"]) - bid) / bid < Decimal("0.01")
    assert Decimal(top["bidQty"]) > 0 and Decimal(top["askQty"]) > 0
    assert top["time"] > 0 and top["lastUpdateId"] > 0
    every = (await http.get("/fapi/v1/ticker/bookTicker")).json()
    assert [each["symbol"] for each in every] == trading_symbols(str(http.base_url))
    assert Decimal(top["askPrice"]) >= ask * Decimal("0.99")


async def test_commission_rate_is_what_the_engine_charges(
    http: httpx.AsyncClient, accounts: AccountBook
) -> None:
    client = SignedClient(http, accounts.traders[1])
    rates = await client.ok("GET", "/fapi/v1/commissionRate", symbol="BTCUSDT")
    assert rates == {
        "symbol": "BTCUSDT",
        "makerCommissionRate": "0.0002",
        "takerCommissionRate": "0.0005",
    }
    missing = await client.send("GET", "/fapi/v1/commissionRate")
    assert (missing.status_code, missing.json()["code"]) == (400, -1102)


async def test_position_mode_is_one_way_and_hedge_mode_is_refused(
    http: httpx.AsyncClient, accounts: AccountBook
) -> None:
    client = SignedClient(http, accounts.traders[2])
    assert await client.ok("GET", "/fapi/v1/positionSide/dual") == {"dualSidePosition": False}
    same = await client.send("POST", "/fapi/v1/positionSide/dual", dualSidePosition="false")
    assert same.json() == {"code": -4059, "msg": "No need to change position side."}
    hedge = await client.send("POST", "/fapi/v1/positionSide/dual", dualSidePosition="true")
    assert (hedge.status_code, hedge.json()["code"]) == (400, -1020)
    assert "hedge mode" in hedge.json()["msg"]

    bid, _ask = await best(http, "BTCUSDT")
    price = str((bid * Decimal("0.95")).quantize(Decimal("0.1")))
    placed = await client.ok(
        "POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
        timeInForce="GTC", quantity="0.002", price=price,
    )  # fmt: skip
    await eventually(client, "/fapi/v1/openOrders", bool, symbol="BTCUSDT")
    busy = await client.send("POST", "/fapi/v1/positionSide/dual", dualSidePosition="true")
    assert busy.json()["code"] == -4067
    busy = await client.send("POST", "/fapi/v1/marginType", symbol="BTCUSDT", marginType="ISOLATED")
    assert busy.json()["code"] == -4047
    await client.ok("DELETE", "/fapi/v1/order", symbol="BTCUSDT", orderId=placed["orderId"])

    await client.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                    quantity="0.002")  # fmt: skip
    await eventually(
        client, "/fapi/v1/adlQuantile", lambda rows: [r["symbol"] for r in rows] == ["BTCUSDT"]
    )
    holding = await client.send("POST", "/fapi/v1/positionSide/dual", dualSidePosition="true")
    assert holding.json()["code"] == -4068
    holding = await client.send(
        "POST", "/fapi/v1/marginType", symbol="BTCUSDT", marginType="ISOLATED"
    )
    assert holding.json()["code"] == -4048


async def test_margin_type_is_cross_and_isolated_is_refused(
    http: httpx.AsyncClient, accounts: AccountBook
) -> None:
    client = SignedClient(http, accounts.traders[3])
    same = await client.send("POST", "/fapi/v1/marginType", symbol="BTCUSDT", marginType="CROSSED")
    assert same.json() == {"code": -4046, "msg": "No need to change margin type."}
    # Traders hold collateral besides USDT (accountConfig: Multi-Assets mode), where Binance
    # refuses isolated margin with a code of its own.
    isolated = await client.send(
        "POST", "/fapi/v1/marginType", symbol="ETHUSDT", marginType="ISOLATED"
    )
    assert isolated.json() == {
        "code": -4168,
        "msg": "Unable to adjust to isolated-margin mode under the Multi-Assets mode.",
    }
    bad = await client.send("POST", "/fapi/v1/marginType", symbol="BTCUSDT", marginType="BOTH")
    assert bad.json()["code"] == -1130


async def test_adl_quantile_lists_held_positions_under_both(
    http: httpx.AsyncClient, accounts: AccountBook
) -> None:
    client = SignedClient(http, accounts.traders[4])
    assert await client.ok("GET", "/fapi/v1/adlQuantile") == []
    await client.ok("POST", "/fapi/v1/order", symbol="ETHUSDT", side="SELL", type="MARKET",
                    quantity="0.05")  # fmt: skip
    rows = await eventually(client, "/fapi/v1/adlQuantile", bool)
    [row] = rows.json()
    assert row["symbol"] == "ETHUSDT"
    assert set(row["adlQuantile"]) == {"LONG", "SHORT", "BOTH"}
    assert 0 <= row["adlQuantile"]["BOTH"] <= 4
    one = await client.ok("GET", "/fapi/v1/adlQuantile", symbol="BTCUSDT")
    assert one == [{"symbol": "BTCUSDT", "adlQuantile": {"LONG": 0, "SHORT": 0, "BOTH": 0}}]


async def test_open_interest_is_the_long_lots_held_and_kept_in_snapshots(
    http: httpx.AsyncClient,
) -> None:
    """After the tests above: 0.002 BTC bought by one trader and 0.05 ETH sold by another,
    each against a maker, and nothing else traded in this module."""
    expected = {"BTCUSDT": Decimal("0.002"), "ETHUSDT": Decimal("0.05")}
    async with asyncio.timeout(10):  # the read model may lag the fills a little
        while not (await http.get("/stampede/audit")).json().get("quiet"):
            await asyncio.sleep(0.05)
    for symbol, lots in expected.items():
        now = (await http.get("/fapi/v1/openInterest", params={"symbol": symbol})).json()
        assert (Decimal(now["openInterest"]), now["symbol"]) == (lots, symbol)
        assert now["time"] > STARTED_MS - 60_000
        history = await http.get(
            "/futures/data/openInterestHist", params={"symbol": symbol, "period": "5m", "limit": 2}
        )
        assert history.status_code == 200, history.text
        latest = history.json()[-1]
        assert Decimal(latest["sumOpenInterest"]) == lots
        assert Decimal(latest["sumOpenInterestValue"]) > 0
        assert latest["timestamp"] % 300_000 == 0
    bad = await http.get(
        "/futures/data/openInterestHist", params={"symbol": "BTCUSDT", "period": "1m"}
    )
    assert bad.json()["code"] == -1130
