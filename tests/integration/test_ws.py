"""The WebSocket streams of a real exchange process, read with the `websockets` client: mark price
payload and cadence, raw and combined layouts under every route prefix, live requests, and user
data for orders placed through REST."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from websockets.exceptions import ConnectionClosed

from exchange_mock.accounts import AccountBook
from exchange_mock.feeds.relay import SLOW_CONSUMER
from exchange_mock.formats import next_funding_time
from exchange_mock.store.keys import Keys
from tests.integration.conftest import Exchange, trading_symbols
from tests.integration.signed import SignedClient
from tests.integration.wsclient import connect, next_message, request, until, ws_url

MARK_FIELDS = {"e", "E", "s", "p", "i", "P", "r", "T"}


def is_mark(symbol: str) -> Any:
    return lambda m: isinstance(m, dict) and m.get("e") == "markPriceUpdate" and m["s"] == symbol


async def test_mark_price_payload_and_once_a_second_cadence(exchange: Exchange) -> None:
    async with connect(ws_url(exchange.url, "/ws/btcusdt@markPrice@1s")) as ws:
        first = await next_message(ws)
        arrivals = [first.at] + [(await next_message(ws, 2)).at for _ in range(2)]
    body = first.body
    assert set(body) == MARK_FIELDS
    assert (body["e"], body["s"]) == ("markPriceUpdate", "BTCUSDT")
    for price in ("p", "i", "P"):
        assert len(body[price].partition(".")[2]) == 8 and Decimal(body[price]) > 0
    assert len(body["r"].partition(".")[2]) == 8 and abs(Decimal(body["r"])) < 1
    assert body["T"] == next_funding_time(body["E"])
    assert body["E"] <= first.at * 1000 + 5, "E is when the engine set the mark, never later"
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert all(0.7 < gap < 1.3 for gap in gaps), gaps


async def test_the_plain_mark_stream_beats_every_third_second(exchange: Exchange) -> None:
    async with connect(ws_url(exchange.url, "/market/ws/ethusdt@markPrice")) as ws:
        messages = [await next_message(ws, 4) for _ in range(2)]
    assert all(m.body["s"] == "ETHUSDT" for m in messages)
    assert 2.7 < messages[1].at - messages[0].at < 3.3
    assert all(int(m.at) % 3 == 0 for m in messages), "beats fall on whole multiples of 3 s"


async def combined_messages(url: str) -> dict[str, Any]:
    """The first message of each of the two streams the URL names, by stream name."""
    async with connect(url) as ws:
        seen: dict[str, Any] = {}
        while len(seen) < 2:
            message = (await next_message(ws)).body
            seen[message["stream"]] = message["data"]
    return seen


async def test_combined_streams_wrap_each_message_with_its_stream_name_under_every_prefix(
    exchange: Exchange,
) -> None:
    query = "/stream?streams=BTCUSDT@markPrice@1s/!markPrice@arr@1s"
    prefixes = ("", "/public", "/market", "/private")
    results = await asyncio.gather(
        *(combined_messages(ws_url(exchange.url, prefix + query)) for prefix in prefixes)
    )
    listed = set(trading_symbols(exchange.url))
    assert {"BTCUSDT", "ETHUSDT"} < listed  # and the dated BTCUSDT quarterlies
    for seen in results:
        assert seen["btcusdt@markPrice@1s"]["s"] == "BTCUSDT"
        assert {m["s"] for m in seen["!markPrice@arr@1s"]} == listed


async def test_raw_streams_joined_in_the_path_each_arrive_unwrapped(exchange: Exchange) -> None:
    async with connect(
        ws_url(exchange.url, "/public/ws/btcusdt@markPrice@1s/ethusdt@markPrice@1s")
    ) as ws:
        symbols = {(await next_message(ws)).body["s"] for _ in range(2)}
    assert symbols == {"BTCUSDT", "ETHUSDT"}


async def test_live_subscribe_list_and_unsubscribe(exchange: Exchange) -> None:
    async with connect(ws_url(exchange.url, "/ws")) as ws:
        assert await request(ws, "SUBSCRIBE", "btcusdt@markPrice@1s", rid=1) == {
            "result": None,
            "id": 1,
        }
        await until(ws, is_mark("BTCUSDT"))
        listed = await request(ws, "LIST_SUBSCRIPTIONS", rid=2)
        assert listed == {"result": ["btcusdt@markPrice@1s"], "id": 2}
        assert await request(ws, "UNSUBSCRIBE", "btcusdt@markPrice@1s", rid=3) == {
            "result": None,
            "id": 3,
        }
        with pytest.raises(TimeoutError):
            await next_message(ws, 1.5)
        assert await request(ws, "SET_PROPERTY", "combined", True, rid=4) == {
            "result": None,
            "id": 4,
        }
        await request(ws, "SUBSCRIBE", "ethusdt@markPrice@1s", rid=5)
        wrapped = await until(ws, lambda m: "stream" in m)
        assert wrapped.body["stream"] == "ethusdt@markPrice@1s"


async def test_bad_requests_get_binance_shaped_errors(exchange: Exchange) -> None:
    async with connect(ws_url(exchange.url, "/ws")) as ws:
        await ws.send("{not json")
        assert (await next_message(ws)).body["error"]["code"] == 3
        unknown = await request(ws, "SUBSCRIBES", "btcusdt@markPrice", rid=7)
        assert unknown["id"] == 7 and unknown["error"]["code"] == 2
        invalid = await request(ws, "SUBSCRIBE", "btc usdt@markPrice", rid=8)
        assert invalid == {"error": {"code": 2, "msg": "Invalid request: invalid stream"}, "id": 8}


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/ws/btc$usdt@markPrice", "Invalid request: invalid stream"),
        ("/ws/" + "ab" * 32, "This listenKey does not exist."),
        ("/private/ws?listenKey=" + "cd" * 32, "This listenKey does not exist."),
    ],
)
async def test_a_connection_asking_for_a_bad_stream_is_closed_with_the_reason(
    exchange: Exchange, path: str, reason: str
) -> None:
    async with connect(ws_url(exchange.url, path)) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await next_message(ws)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1008, reason)


async def listen_key(http: httpx.AsyncClient, client: SignedClient) -> str:
    response = await http.post(
        "/fapi/v1/listenKey", headers={"X-MBX-APIKEY": client.account.api_key}
    )
    key: str = response.json()["listenKey"]
    return key


def is_user(event: str) -> Any:
    return lambda m: isinstance(m, dict) and m.get("e") == event


async def test_an_order_placed_through_rest_reaches_the_listen_key_stream(
    exchange: Exchange, http: httpx.AsyncClient, accounts: AccountBook
) -> None:
    client = SignedClient(http, accounts.traders[0])
    key = await listen_key(http, client)
    async with (
        connect(ws_url(exchange.url, f"/ws/{key}")) as raw,
        connect(ws_url(exchange.url, f"/private/ws?listenKey={key}")) as private,
    ):
        placed_at = time.time()
        filled = await client.ok(
            "POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="MARKET",
            quantity="0.002", newClientOrderId="ws-1", newOrderRespType="RESULT",
        )  # fmt: skip
        for ws in (raw, private):
            new = await until(ws, lambda m: m.get("e") == "ORDER_TRADE_UPDATE")
            assert (new.body["o"]["x"], new.body["o"]["c"]) == ("NEW", "ws-1")
            assert new.body["o"]["i"] == filled["orderId"]
            assert placed_at * 1000 - 5 <= new.body["E"] <= new.at * 1000 + 5
            last = await until(
                ws, lambda m: m.get("e") == "ORDER_TRADE_UPDATE" and m["o"]["X"] == "FILLED"
            )
            assert last.body["o"]["x"] == "TRADE"
            assert last.body["o"]["z"] == filled["executedQty"] == "0.002"
            update = await until(ws, is_user("ACCOUNT_UPDATE"))
            (position,) = update.body["a"]["P"]
            assert (position["s"], position["pa"]) == ("BTCUSDT", "0.002")
            assert update.body["a"]["B"][0]["a"] == "USDT"


async def test_deleting_the_listen_key_ends_its_user_data_but_not_the_connection(
    exchange: Exchange, http: httpx.AsyncClient, accounts: AccountBook
) -> None:
    client = SignedClient(http, accounts.traders[1])
    key = await listen_key(http, client)
    url = ws_url(exchange.url, f"/private/stream?listenKey={key}&streams=btcusdt@markPrice@1s")
    async with connect(url) as ws:
        deleted = await http.delete(
            "/fapi/v1/listenKey",
            params={"listenKey": key},
            headers={"X-MBX-APIKEY": client.account.api_key},
        )
        assert deleted.status_code == 200
        expired = await until(ws, lambda m: m["stream"] == key)
        assert expired.body["data"]["e"] == "listenKeyExpired"
        assert expired.body["data"]["listenKey"] == key
        listed = await request(ws, "LIST_SUBSCRIPTIONS", rid=9)
        assert listed["result"] == ["btcusdt@markPrice@1s"]
        await client.ok(
            "POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001"
        )
        deadline = time.time() + 1.2
        while (remaining := deadline - time.time()) > 0:
            with contextlib.suppress(TimeoutError):
                message = await next_message(ws, remaining)
                assert message.body["stream"] != key, message.body


async def test_a_client_that_falls_too_far_behind_is_closed_with_the_reason_and_counted(
    exchange: Exchange,
) -> None:
    """A client that stops reading, with a small receive buffer and no compression so neither
    the kernel nor deflate absorbs megabytes first: the server's queue for it fills, and the
    relay drops it (1008) rather than grow the queue or skip messages. The client reads again
    only once the drop is counted, and then finds the close after what was already sent. The
    flood goes to a stream no other test here reads."""
    keys = Keys(exchange.settings.key_prefix)
    redis = Redis.from_url(str(exchange.settings.redis_url))
    payload = b'{"e":"bulk","x":"' + b"x" * 4_000 + b'"}'
    tiny = socket.socket()
    tiny.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4_096)
    tiny.connect(("127.0.0.1", exchange.settings.port))
    try:
        async with connect(
            ws_url(exchange.url, "/ws/ethusdt@forceOrder"), sock=tiny, max_queue=4, compression=None
        ) as ws:
            pipe = redis.pipeline(transaction=False)
            for _ in range(3_000):
                pipe.publish(keys.feed("ethusdt@forceOrder"), payload)
            await pipe.execute()
            async with asyncio.timeout(10):
                while not await redis.hget(keys.feed_stats, SLOW_CONSUMER):  # type: ignore[misc]
                    await asyncio.sleep(0.05)
            received = 0
            with pytest.raises(ConnectionClosed) as closed:
                async with asyncio.timeout(10):
                    while True:
                        await ws.recv()
                        received += 1
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1008
        assert closed.value.rcvd.reason == "slow consumer: more than 1000 messages waiting"
        assert received < 3_000
    finally:
        await redis.aclose()
