"""Fan-out across API worker processes: a WebSocket client on one worker sees the events of
orders placed through another, and each worker holds one Redis subscription per channel however
many of its clients want it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from decimal import Decimal

import httpx
import pytest
from redis.asyncio import Redis

from exchange_mock.accounts import AccountBook
from exchange_mock.api.userstream import listen_key
from exchange_mock.redis_server import EmbeddedRedis, free_port
from exchange_mock.server import exchange_process
from exchange_mock.settings import Role, Settings
from exchange_mock.store.keys import Keys
from tests.integration.conftest import exchange_settings, wait_for_books
from tests.integration.signed import SignedClient
from tests.integration.wsclient import connect, until, ws_url


@dataclass(frozen=True)
class Workers:
    urls: tuple[str, str]
    settings: Settings


@pytest.fixture(scope="module")
def workers(redis_server: EmbeddedRedis) -> Iterator[Workers]:
    """Two API-only processes on ports of their own (so a test chooses its worker), in front of
    one process running everything else, the feed publisher included."""
    settings = exchange_settings(redis_server, f"ws-workers-{time.time_ns()}")
    background = settings.model_copy(update={"roles": frozenset(Role) - {Role.API}})
    ports = (free_port(), free_port())
    with ExitStack() as processes:
        processes.enter_context(exchange_process(background))
        for port in ports:
            api = settings.model_copy(update={"roles": frozenset({Role.API}), "port": port})
            processes.enter_context(exchange_process(api))
        urls = (f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}")
        wait_for_books(urls[0])
        yield Workers(urls, settings)


@pytest.mark.parametrize(("listen_on", "order_through"), [(0, 1), (1, 0)])
async def test_a_client_on_one_worker_sees_orders_placed_through_the_other(
    workers: Workers, listen_on: int, order_through: int
) -> None:
    account = AccountBook.from_settings(workers.settings).traders[listen_on]
    key = listen_key(account)
    async with httpx.AsyncClient(base_url=workers.urls[order_through]) as other:
        started = await other.post("/fapi/v1/listenKey", headers={"X-MBX-APIKEY": account.api_key})
    assert started.json() == {"listenKey": key}  # started on one worker, live on both
    async with (
        connect(ws_url(workers.urls[listen_on], f"/ws/{key}")) as ws,
        httpx.AsyncClient(base_url=workers.urls[order_through], timeout=30) as http,
    ):
        placed = await SignedClient(http, account).ok(
            "POST", "/fapi/v1/order", symbol="ETHUSDT", side="SELL", type="MARKET",
            quantity="0.05",
        )  # fmt: skip
        filled = await until(
            ws, lambda m: m.get("e") == "ORDER_TRADE_UPDATE" and m["o"]["X"] == "FILLED"
        )
        assert filled.body["o"]["i"] == placed["orderId"]
        update = await until(ws, lambda m: m.get("e") == "ACCOUNT_UPDATE")
        assert Decimal(update.body["a"]["P"][0]["pa"]) == Decimal("-0.05")


async def test_each_worker_subscribes_once_per_channel_for_all_its_clients(
    workers: Workers,
) -> None:
    stream = "btcusdt@markPrice@1s"
    clients = [workers.urls[0]] * 3 + [workers.urls[1]] * 2
    redis = Redis.from_url(str(workers.settings.redis_url))
    try:
        connections = [connect(ws_url(url, f"/ws/{stream}")) for url in clients]
        sockets = await asyncio.gather(*connections)
        try:
            beats = await asyncio.gather(
                *(until(ws, lambda m: m.get("s") == "BTCUSDT") for ws in sockets)
            )
            assert len({beat.body["E"] for beat in beats}) <= 2, "one beat, seen everywhere"
            channel = Keys(workers.settings.key_prefix).feed(stream)
            ((_name, subscriptions),) = await redis.pubsub_numsub(channel)
            assert subscriptions == 2
        finally:
            await asyncio.gather(*(ws.close() for ws in sockets))
    finally:
        await redis.aclose()
