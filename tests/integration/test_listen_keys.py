"""Listen keys on a real exchange, as Binance keeps them: live for a TTL (here 1 s instead of
60 min) after a start or keepalive, then `listenKeyExpired` on the stream and -1125 on a
keepalive; a DELETE revokes the key until the next start."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from exchange_mock.accounts import AccountBook
from exchange_mock.redis_server import EmbeddedRedis, free_port
from exchange_mock.server import exchange_process
from exchange_mock.settings import Settings
from tests.integration.conftest import exchange_settings
from tests.integration.wsclient import connect, request, until, ws_url

TTL_S = 1


@pytest.fixture(scope="module")
def exchange(redis_server: EmbeddedRedis) -> Iterator[Settings]:
    settings = exchange_settings(
        redis_server, f"listen-keys-{time.time_ns()}", port=free_port(), makers=0,
        listen_key_ttl_s=TTL_S,
    )  # fmt: skip
    with exchange_process(settings):
        yield settings


@pytest.fixture
async def http(exchange: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{exchange.port}") as client:
        yield client


def key_header(exchange: Settings, trader: int) -> dict[str, str]:
    return {"X-MBX-APIKEY": AccountBook.from_settings(exchange).traders[trader].api_key}


async def start(http: httpx.AsyncClient, headers: dict[str, str]) -> str:
    key: str = (await http.post("/fapi/v1/listenKey", headers=headers)).json()["listenKey"]
    return key


async def keepalive(http: httpx.AsyncClient, headers: dict[str, str], key: str) -> httpx.Response:
    return await http.put("/fapi/v1/listenKey", params={"listenKey": key}, headers=headers)


async def test_a_key_without_keepalive_expires_on_its_stream_and_for_keepalives(
    exchange: Settings, http: httpx.AsyncClient
) -> None:
    headers = key_header(exchange, 0)
    key = await start(http, headers)
    url = ws_url(f"http://127.0.0.1:{exchange.port}", f"/stream?listenKey={key}")
    async with connect(url) as ws:
        expired = await until(ws, lambda m: m.get("stream") == key, timeout_s=TTL_S + 3)
        assert expired.body["data"] == {
            "e": "listenKeyExpired", "E": expired.body["data"]["E"], "listenKey": key,
        }  # fmt: skip
        assert (await request(ws, "LIST_SUBSCRIPTIONS", rid=4))["result"] == []

    refused = await keepalive(http, headers, key)
    assert (refused.status_code, refused.json()["code"]) == (400, -1125)


async def test_keepalives_keep_a_key_live_past_its_ttl(
    exchange: Settings, http: httpx.AsyncClient
) -> None:
    headers = key_header(exchange, 1)
    key = await start(http, headers)
    for _ in range(4):
        await asyncio.sleep(TTL_S / 2)
        assert (await keepalive(http, headers, key)).status_code == 200


async def test_a_deleted_key_is_revoked_until_started_again(
    exchange: Settings, http: httpx.AsyncClient
) -> None:
    headers = key_header(exchange, 2)
    key = await start(http, headers)
    deleted = await http.delete("/fapi/v1/listenKey", params={"listenKey": key}, headers=headers)
    assert deleted.status_code == 200

    refused = await keepalive(http, headers, key)
    assert (refused.status_code, refused.json()["code"]) == (400, -1125)
    base = f"http://127.0.0.1:{exchange.port}"
    async with connect(ws_url(base, f"/ws/{key}")) as ws:
        await ws.wait_closed()
    assert ws.close_reason == "This listenKey does not exist."

    assert await start(http, headers) == key
    assert (await keepalive(http, headers, key)).status_code == 200
