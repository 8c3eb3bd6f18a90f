"""The book and trade streams of a real exchange process, read with the `websockets` client: a
local book kept by Binance's documented procedure through a burst of orders ends equal to the
REST depth level by level, with an unbroken `pu` chain; each stream kind's layout, field by
field."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ccxt.pro
import httpx
import orjson
import pytest

from exchange_mock.accounts import AccountBook
from exchange_mock.redis_server import EmbeddedRedis, free_port
from exchange_mock.server import exchange_process
from loadtests.localbook import Levels, LocalBook, Outcome, parse_levels
from tests.integration.burst import burst
from tests.integration.conftest import Exchange, exchange_settings, wait_for_books
from tests.integration.signed import SignedClient
from tests.integration.wsclient import ClientConnection, connect, next_message, ws_url

SYMBOLS = ("BTCUSDT", "ETHUSDT")
SETTLE_S = 5.0


@pytest.fixture(scope="module")
def exchange(redis_server: EmbeddedRedis, request: pytest.FixtureRequest) -> Iterator[Exchange]:
    """The makers quote once (their next round is a minute away), so once a test's orders are
    done the books are quiet, and a snapshot and a stream can be compared at one update id."""
    prefix = f"it-book-streams-{time.time_ns()}"
    settings = exchange_settings(redis_server, prefix, port=free_port(), maker_interval_ms=60_000)
    with exchange_process(settings):
        url = f"http://127.0.0.1:{settings.port}"
        wait_for_books(url)
        yield Exchange(url, settings)


async def snapshot(http: httpx.AsyncClient, symbol: str) -> Any:
    answer = await http.get("/fapi/v1/depth", params={"symbol": symbol, "limit": 1000})
    assert answer.status_code == 200, answer.text
    return answer.json()


class Follower:
    """One connection's diff events, each fed to its symbol's local book, all kept."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.books = {symbol: LocalBook() for symbol in SYMBOLS}
        self.events: dict[str, list[Any]] = {symbol: [] for symbol in SYMBOLS}
        self.outcomes: Counter[Outcome] = Counter()

    async def follow(self) -> None:
        async for raw in self.ws:
            data = orjson.loads(raw)["data"]
            self.events[data["s"]].append(data)
            self.outcomes[self.books[data["s"]].on_event(data)] += 1

    async def joined_at_rest_snapshot(
        self, http: httpx.AsyncClient, symbol: str
    ) -> tuple[Any, Levels, Levels]:
        """Wait (bounded) until the local book stands at the update id of a fresh REST
        snapshot; return that snapshot and the book's levels at that moment.

        The levels are read with no await after the ids matched, so no event can land in
        between: REST depth trails the engine by up to its publishing interval, so the stream
        can carry changes past the snapshot's id (a burst's last cancels), and a book read after
        them has moved past the snapshot it is compared with, as no client compares."""
        book = self.books[symbol]
        deadline = time.monotonic() + SETTLE_S
        while True:
            rest = await snapshot(http, symbol)
            if book.update_id == rest["lastUpdateId"]:
                return (rest, *book.levels(limit=1000))
            assert time.monotonic() < deadline, (book.update_id, rest["lastUpdateId"])
            await asyncio.sleep(0.1)


async def test_a_local_book_kept_from_the_diff_stream_equals_the_rest_depth_after_a_burst(
    exchange: Exchange, accounts: AccountBook
) -> None:
    names = "/".join(f"{symbol.lower()}@depth@100ms" for symbol in SYMBOLS)
    async with (
        connect(ws_url(exchange.url, f"/stream?streams={names}")) as ws,
        httpx.AsyncClient(base_url=exchange.url, timeout=30) as http,
    ):
        follower = Follower(ws)
        reader = asyncio.create_task(follower.follow())
        try:
            # Subscribed first, then the snapshots: the procedure's steps 1 and 2.
            for symbol in SYMBOLS:
                follower.outcomes.update(
                    follower.books[symbol].on_snapshot(await snapshot(http, symbol))
                )
            result = await burst(exchange.url, accounts.traders, orders=150, concurrency=16, seed=3)
            assert len(result.acknowledged) > 120, result.statuses
            finals = {
                symbol: await follower.joined_at_rest_snapshot(http, symbol) for symbol in SYMBOLS
            }
            # The market moves on after the comparison point, as it may on its own (a burst's
            # last changes can reach the stream after REST's snapshot was read): the book is
            # compared as it stood at the snapshot's id, not as it stands now.
            rest = finals["BTCUSDT"][0]
            client = SignedClient(http, accounts.traders[0])
            await client.ok(
                "POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                timeInForce="GTC", quantity="0.001",
                price=str(Decimal(rest["bids"][-1][0]) - 1),
            )  # fmt: skip
            async with asyncio.timeout(SETTLE_S):
                while follower.books["BTCUSDT"].update_id == rest["lastUpdateId"]:
                    await asyncio.sleep(0.02)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
    assert follower.outcomes[Outcome.GAP] == 0, follower.outcomes
    assert follower.outcomes[Outcome.APPLIED] > 10, follower.outcomes
    for symbol, (rest, bids, asks) in finals.items():
        assert bids == parse_levels(rest["bids"]), symbol
        assert asks == parse_levels(rest["asks"]), symbol
        assert len(bids) > 5 and len(asks) > 5
        events = follower.events[symbol]
        # Every event of the connection chains to the one before: nothing was skipped.
        assert all(b["pu"] == a["u"] for a, b in itertools.pairwise(events)), symbol
        assert all(e["U"] == e["pu"] + 1 and e["u"] >= e["U"] for e in events)


DEPTH_FIELDS = ["e", "E", "T", "s", "U", "u", "pu", "b", "a"]


def assert_level_list(levels: Any, descending: bool, most: int | None = None) -> None:
    prices = [Decimal(price) for price, _size in levels]
    assert prices == sorted(prices, reverse=descending)
    assert all(Decimal(size) >= 0 for _price, size in levels)
    assert most is None or len(levels) <= most


async def test_each_stream_kind_has_binances_layout(
    exchange: Exchange, accounts: AccountBook
) -> None:
    streams = [
        "btcusdt@depth",
        "btcusdt@depth@500ms",
        "btcusdt@depth5",
        "btcusdt@depth10@100ms",
        "btcusdt@depth20@500ms",
        "btcusdt@bookTicker",
        "!bookTicker",
        "btcusdt@aggTrade",
        "btcusdt@kline_1m",
        "btcusdt@ticker",
        "btcusdt@miniTicker",
        "!ticker@arr",
        "!miniTicker@arr",
    ]
    wanted = set(streams)
    async with (
        connect(ws_url(exchange.url, f"/stream?streams={'/'.join(streams)}")) as ws,
        httpx.AsyncClient(base_url=exchange.url, timeout=30) as http,
    ):
        client = SignedClient(http, accounts.traders[0])
        top = await snapshot(http, "BTCUSDT")
        best_ask = Decimal(top["asks"][0][0])
        # A buy through the best ask trades with it and rests the rest one tick above it:
        # every book stream and the trade stream have something to send.
        order = await client.ok(
            "POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
            timeInForce="GTC", quantity="0.500", price=str(best_ask + Decimal("0.1")),
        )  # fmt: skip
        # The first message of each stream, but the newest ticker: tickers and klines also beat
        # on a quiet market, so the first may predate the order's trades.
        seen: dict[str, Any] = {}
        traded = 0
        async with asyncio.timeout(6):
            while set(seen) != wanted or seen["btcusdt@ticker"]["L"] < traded:
                message = (await next_message(ws)).body
                stream, data = message["stream"], message["data"]
                if stream == "btcusdt@aggTrade":
                    traded = max(traded, data["l"])
                if stream in ("btcusdt@ticker", "btcusdt@miniTicker"):
                    seen[stream] = data
                seen.setdefault(stream, data)
        await client.ok("DELETE", "/fapi/v1/order", symbol="BTCUSDT", orderId=order["orderId"])
        rest_ticker = (await http.get("/fapi/v1/ticker/24hr", params={"symbol": "BTCUSDT"})).json()
    for name in (
        "btcusdt@depth",
        "btcusdt@depth@500ms",
        "btcusdt@depth5",
        "btcusdt@depth10@100ms",
        "btcusdt@depth20@500ms",
    ):
        body = seen[name]
        assert list(body) == DEPTH_FIELDS, name
        assert (body["e"], body["s"]) == ("depthUpdate", "BTCUSDT")
        assert body["pu"] == body["U"] - 1 and body["u"] >= body["U"]
        assert isinstance(body["E"], int) and body["T"] == body["E"]
        limit = int(name.partition("@depth")[2].partition("@")[0] or 0) or None
        assert_level_list(body["b"], descending=True, most=limit)
        assert_level_list(body["a"], descending=False, most=limit)
        assert limit != 5 or len(body["b"]) == len(body["a"]) == 5, name
    ticker = seen["btcusdt@bookTicker"]
    assert list(ticker) == ["e", "u", "E", "T", "s", "b", "B", "a", "A"]
    assert (ticker["e"], ticker["s"]) == ("bookTicker", "BTCUSDT")
    assert Decimal(ticker["b"]) < Decimal(ticker["a"])
    assert seen["!bookTicker"]["e"] == "bookTicker"
    trade = seen["btcusdt@aggTrade"]
    assert list(trade) == ["e", "E", "s", "a", "p", "q", "f", "l", "T", "m"]
    assert (trade["e"], trade["s"], trade["m"]) == ("aggTrade", "BTCUSDT", False)
    assert Decimal(trade["p"]) == best_ask
    assert trade["a"] == trade["f"] <= trade["l"] and trade["T"] <= trade["E"]
    kline = seen["btcusdt@kline_1m"]
    assert list(kline) == ["e", "E", "s", "k"] and kline["e"] == "kline"
    assert list(kline["k"]) == [
        "t", "T", "s", "i", "f", "L", "o", "c", "h", "l", "v", "n", "x", "q", "V", "Q", "B",
    ]  # fmt: skip
    assert (kline["k"]["i"], kline["k"]["x"], kline["k"]["T"] - kline["k"]["t"]) == (
        "1m",
        False,
        59_999,
    )
    assert kline["k"]["f"] <= kline["k"]["L"] and Decimal(kline["k"]["l"]) <= Decimal(
        kline["k"]["h"]
    )
    ticker = seen["btcusdt@ticker"]
    assert list(ticker) == [
        "e", "E", "s", "p", "P", "w", "c", "Q", "o", "h", "l", "v", "q", "O", "C", "F", "L", "n",
    ]  # fmt: skip
    # Built by the same running statistics as the REST ticker, it agrees with it.
    assert (ticker["c"], ticker["v"], ticker["n"], ticker["L"]) == (
        rest_ticker["lastPrice"],
        rest_ticker["volume"],
        rest_ticker["count"],
        rest_ticker["lastId"],
    )
    assert seen["!ticker@arr"][0]["e"] == "24hrTicker"
    mini = seen["btcusdt@miniTicker"]
    assert list(mini) == ["e", "E", "s", "c", "o", "h", "l", "v", "q"]
    assert (mini["e"], mini["c"]) == ("24hrMiniTicker", ticker["c"])
    assert seen["!miniTicker@arr"][0]["e"] == "24hrMiniTicker"


async def test_ccxt_pro_keeps_its_order_book_and_watches_tickers_and_klines(
    exchange: Exchange, accounts: AccountBook
) -> None:
    """ccxt's own streaming client, unmodified, pointed at the mock by URL overrides only: it
    opens `/public/ws/0` and subscribes; its order book (its own local book procedure) ends
    equal to the REST depth, and its ticker and kline watches are answered on a quiet market."""
    base = exchange.url
    rest = {name: f"{base}/fapi/{version}" for name, version in REST_URLS.items()}
    client = ccxt.pro.binanceusdm(
        {
            "urls": {"api": {**rest, "ws": {"linear": ws_url(base, "/ws")}}},
            "options": {"fetchCurrencies": False},
        }
    )
    try:
        async with asyncio.timeout(15):
            book, ticker, bars = await asyncio.gather(
                client.watch_order_book("BTC/USDT:USDT"),
                client.watch_ticker("BTC/USDT:USDT"),
                client.watch_ohlcv("BTC/USDT:USDT", "1m"),
            )
            async with httpx.AsyncClient(base_url=base) as http:
                final = await snapshot(http, "BTCUSDT")
            while book["nonce"] < final["lastUpdateId"]:
                book = await client.watch_order_book("BTC/USDT:USDT")
    finally:
        await client.close()
    assert book["nonce"] == final["lastUpdateId"]
    assert book["bids"] == [[float(p), float(q)] for p, q in final["bids"]]
    assert book["asks"] == [[float(p), float(q)] for p, q in final["asks"]]
    assert ticker["symbol"] == "BTC/USDT:USDT" and ticker["last"] > 0
    assert bars and bars[-1][4] > 0


REST_URLS = {
    "fapiPublic": "v1", "fapiPublicV2": "v2", "fapiPublicV3": "v3",
    "fapiPrivate": "v1", "fapiPrivateV2": "v2", "fapiPrivateV3": "v3",
}  # fmt: skip
