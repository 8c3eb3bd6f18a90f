"""A hostile WebSocket client against a real exchange: it may subscribe only to streams the
exchange produces, within Binance's published limits, and leaves nothing behind in Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from redis.asyncio import Redis
from websockets.exceptions import ConnectionClosed, InvalidStatus

from exchange_mock.redis_server import EmbeddedRedis, free_port
from exchange_mock.server import exchange_process
from exchange_mock.settings import Settings
from exchange_mock.store.keys import Keys
from exchange_mock.store.wsattempts import WINDOW_MS
from tests.integration.conftest import exchange_settings
from tests.integration.wsclient import connect, next_message, request, ws_url

ATTEMPTS = 40
"""Connection attempts per address per 5 minutes, Binance's 300 made quick to reach (and more
than the rest of this module opens from loopback)."""


@pytest.fixture(scope="module")
def exchange(redis_server: EmbeddedRedis) -> Iterator[Settings]:
    settings = exchange_settings(
        redis_server, f"ws-limits-{time.time_ns()}", port=free_port(), makers=0,
        ws_connections_per_5m=ATTEMPTS, trusted_proxies=frozenset({"127.0.0.1"}),
    )  # fmt: skip
    with exchange_process(settings):
        yield settings


def url(exchange: Settings, path: str) -> str:
    return ws_url(f"http://127.0.0.1:{exchange.port}", path)


async def closed_by_server(ws: Any) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await next_message(ws)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


@pytest.mark.parametrize("name", ["x@y", "btcusdt@depth7", "dogeusdt@markPrice", "!x@arr"])
async def test_a_stream_the_exchange_does_not_produce_is_refused(
    exchange: Settings, name: str
) -> None:
    async with connect(url(exchange, "/ws")) as ws:
        refused = await request(ws, "SUBSCRIBE", name, rid=1)
        accepted = await request(ws, "SUBSCRIBE", "BTCUSDT@forceOrder", rid=2)
    assert refused == {"error": {"code": 2, "msg": "Invalid request: invalid stream"}, "id": 1}
    assert accepted == {"result": None, "id": 2}

    async with connect(url(exchange, f"/ws/{name}")) as ws:
        assert await closed_by_server(ws) == (1008, "Invalid request: invalid stream")


@pytest.mark.parametrize("params", [None, 5, {"combined": True}, "combined", ["combined"]])
async def test_set_property_with_malformed_params_is_error_1_and_the_connection_stays(
    exchange: Settings, params: Any
) -> None:
    async with connect(url(exchange, "/ws")) as ws:
        await ws.send(orjson.dumps({"method": "SET_PROPERTY", "params": params, "id": 3}))
        answer = (await next_message(ws)).body
        listed = await request(ws, "LIST_SUBSCRIPTIONS", rid=4)
    assert (answer["id"], answer["error"]["code"]) == (3, 1)
    assert listed == {"result": [], "id": 4}


async def test_more_than_10_messages_in_a_second_close_the_connection(exchange: Settings) -> None:
    async with connect(url(exchange, "/ws")) as ws:
        for rid in range(12):
            await ws.send(orjson.dumps({"method": "LIST_SUBSCRIPTIONS", "id": rid}))
        code, _reason = await closed_by_server(ws)
    assert code == 1008


async def test_10_messages_a_second_are_within_the_limit(exchange: Settings) -> None:
    async with connect(url(exchange, "/ws")) as ws:
        for rid in range(15):
            assert (await request(ws, "LIST_SUBSCRIPTIONS", rid=rid))["result"] == []
            await asyncio.sleep(0.15)


async def subscribed(redis: Redis, channel: str) -> bool:
    return bool(await redis.pubsub_channels(channel))


async def eventually_unsubscribed(redis: Redis, channel: str) -> None:
    async with asyncio.timeout(5):
        while await subscribed(redis, channel):
            await asyncio.sleep(0.05)


async def test_the_last_client_of_a_stream_unsubscribes_its_channel(
    exchange: Settings, redis: Redis
) -> None:
    channel = Keys(exchange.key_prefix).feed("ethusdt@forceOrder")
    async with connect(url(exchange, "/ws")) as first, connect(url(exchange, "/ws")) as second:
        for ws in (first, second):
            await request(ws, "SUBSCRIBE", "ethusdt@forceOrder", rid=1)
        assert await subscribed(redis, channel)
        await request(first, "UNSUBSCRIBE", "ethusdt@forceOrder", rid=2)
        await asyncio.sleep(0.3)
        assert await subscribed(redis, channel), "the second client still listens"
    await eventually_unsubscribed(redis, channel)

    async with connect(url(exchange, "/ws/ethusdt@forceOrder")) as again:
        assert await subscribed(redis, channel)
        await request(again, "LIST_SUBSCRIPTIONS", rid=3)
    await eventually_unsubscribed(redis, channel)


async def test_connection_attempts_past_the_limit_per_address_are_refused(
    exchange: Settings,
) -> None:
    """Counted per client address (here forged by the trusted loopback proxy), on every worker."""
    crowd = {"X-Forwarded-For": "203.0.113.77"}
    # Attempts count in fixed 5-minute windows: start them where they all fall in one.
    left_ms = WINDOW_MS - time.time_ns() // 1_000_000 % WINDOW_MS
    if left_ms < 10_000:
        await asyncio.sleep(left_ms / 1000 + 0.1)
    for _ in range(ATTEMPTS):
        async with connect(url(exchange, "/ws"), additional_headers=crowd) as ws:
            assert (await request(ws, "LIST_SUBSCRIPTIONS", rid=1))["result"] == []

    with pytest.raises(InvalidStatus) as refused:
        async with connect(url(exchange, "/ws"), additional_headers=crowd):
            pass
    other = {"X-Forwarded-For": "203.0.113.78"}
    async with connect(url(exchange, "/ws"), additional_headers=other) as ws:
        assert (await request(ws, "LIST_SUBSCRIPTIONS", rid=2))["result"] == []
    # Refused before the upgrade, as Binance's REST limits refuse: a 429 and its body, which a
    # client reads without opening a connection it would only be told to close.
    response = refused.value.response
    assert response.status_code == 429
    assert response.headers["Content-Type"] == "application/json"
    assert orjson.loads(response.body) == {
        "code": -1003, "msg": "Too many connection attempts from this IP; try again later.",
    }  # fmt: skip
