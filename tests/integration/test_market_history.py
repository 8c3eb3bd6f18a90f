"""The market's histories on a real exchange: recent trades, aggregate trades and klines, from
the journal through the read model, agreeing with the trades made."""

from __future__ import annotations

import asyncio
import itertools
import time
from decimal import Decimal

import httpx

from exchange_mock.accounts import AccountBook
from exchange_mock.symbols import SymbolTable
from tests.integration.signed import SignedClient


async def _public(http: httpx.AsyncClient, path: str, **params: object) -> list[object]:
    response = await http.get(path, params={"symbol": "ETHUSDT", **params})
    assert response.status_code == 200, response.text
    body: list[object] = response.json()
    return body


async def test_klines_start_at_the_listing_and_histories_match_the_trades_made(
    http: httpx.AsyncClient, accounts: AccountBook
) -> None:
    reference = SymbolTable.load().by_name["ETHUSDT"].reference_price
    [listing] = await _public(http, "/fapi/v1/klines", interval="1d", limit=1)
    assert isinstance(listing, list) and len(listing) == 12
    assert Decimal(listing[1]) == reference  # opened at the genesis price
    assert await _public(http, "/fapi/v1/trades") == []

    client = SignedClient(http, accounts.traders[0])
    for side in ("BUY", "SELL"):
        await client.ok("POST", "/fapi/v1/order", symbol="ETHUSDT", side=side, type="MARKET",
                        quantity="0.05")  # fmt: skip
    deadline = time.monotonic() + 10  # the read model may trail the fills a little
    while len(trades := await _public(http, "/fapi/v1/trades")) < 2:
        assert time.monotonic() < deadline, trades
        await asyncio.sleep(0.02)
    assert all(isinstance(t, dict) for t in trades)
    rows = [t for t in trades if isinstance(t, dict)]
    assert [t["isBuyerMaker"] for t in rows[-2:]] == [False, True]
    volume = sum(Decimal(t["qty"]) for t in rows)
    quote = sum(Decimal(t["quoteQty"]) for t in rows)
    assert volume >= Decimal("0.1")

    # Each aggregate is one market order's fills at one price, covering the trades in order.
    aggs = [a for a in await _public(http, "/fapi/v1/aggTrades", fromId=rows[0]["id"])]
    assert all(isinstance(a, dict) for a in aggs)
    spans = [(a["f"], a["l"]) for a in aggs if isinstance(a, dict)]
    assert spans[0][0] == rows[0]["id"] and spans[-1][1] == rows[-1]["id"]
    assert all(later[0] == earlier[1] + 1 for earlier, later in itertools.pairwise(spans))
    by_id = {t["id"]: t for t in rows}
    for agg in aggs:
        assert isinstance(agg, dict)
        covered = [by_id[n] for n in range(agg["f"], agg["l"] + 1)]
        assert {t["price"] for t in covered} == {agg["p"]}
        assert Decimal(agg["q"]) == sum(Decimal(t["qty"]) for t in covered)
    since = await _public(http, "/fapi/v1/aggTrades", startTime=rows[0]["time"])
    assert since == aggs

    # Today's kline is the day's trades: the listing's quiet start is no trade.
    [day] = await _public(http, "/fapi/v1/klines", interval="1d", limit=1)
    assert isinstance(day, list)
    assert (Decimal(day[5]), Decimal(day[7]), day[8]) == (volume, quote, len(rows))
    prices = [Decimal(t["price"]) for t in rows]
    assert [Decimal(p) for p in day[1:5]] == [prices[0], max(prices), min(prices), prices[-1]]
    assert day[6] == day[0] + 86_400_000 - 1


async def test_history_parameters_are_checked_as_binance_checks_them(
    http: httpx.AsyncClient,
) -> None:
    async def code(path: str, **params: object) -> int:
        response = await http.get(path, params={"symbol": "ETHUSDT", **params})
        assert response.status_code == 400, response.text
        value: int = response.json()["code"]
        return value

    assert await code("/fapi/v1/klines", interval="2m") == -1120
    assert await code("/fapi/v1/klines") == -1102
    assert await code("/fapi/v1/klines", interval="1m", startTime=2, endTime=1) == -1023
    assert await code("/fapi/v1/aggTrades", startTime=0, endTime=3_600_000) == -1127
    assert await code("/fapi/v1/aggTrades", fromId=1, startTime=0) == -1128
    assert await code("/fapi/v1/trades", limit=0) == -1130
