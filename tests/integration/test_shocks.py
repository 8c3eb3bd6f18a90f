"""Hostile or careless operator shocks against a real exchange: refused when out of range,
bounded when nothing fills, and never the end of the market agent."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from redis.asyncio import Redis

from exchange_mock.store.keys import Keys
from tests.integration.conftest import Exchange

SHOCK = "/stampede/admin/shock"


@pytest.mark.parametrize(
    "shock",
    [
        b'{"symbol": "BTCUSDT", "pct": Infinity}',
        b'{"symbol": "BTCUSDT", "pct": NaN}',
        b'{"symbol": "BTCUSDT", "pct": 1e300}',
        b'{"symbol": "BTCUSDT", "notional": "-100000000000", "venue": "kucoin"}',
        b'{"symbol": "BTCUSDT", "notional": "Infinity", "venue": "kucoin"}',
        b'{"symbol": "USDEUSDT", "notional": "-1e30"}',
    ],
)
async def test_a_shock_beyond_the_whole_venue_or_not_finite_is_400(
    http: httpx.AsyncClient, shock: bytes
) -> None:
    json = {"Content-Type": "application/json"}
    response = await http.post(SHOCK, content=shock, headers=json)
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"code", "msg"}


async def marks_move(http: httpx.AsyncClient) -> bool:
    """Whether BTCUSDT's mark is updated again within a few seconds."""
    first = (await http.get("/fapi/v1/premiumIndex", params={"symbol": "BTCUSDT"})).json()
    async with asyncio.timeout(8):
        while True:
            await asyncio.sleep(0.2)
            now = (await http.get("/fapi/v1/premiumIndex", params={"symbol": "BTCUSDT"})).json()
            if now["time"] > first["time"]:
                return True


async def test_a_bad_round_of_the_market_agent_is_survived(
    exchange: Exchange, http: httpx.AsyncClient, redis: Redis
) -> None:
    """Whatever reaches the agent's board (here: garbage, and a sale larger than the venue),
    the round is logged and the next one runs: marks keep moving."""
    keys = Keys(exchange.settings.key_prefix)
    await redis.rpush(keys.shocks, b"not json")
    await redis.rpush(keys.shocks, b'{"index":"BTCUSDT","venue":"kucoin","notional":-1e11}')
    await asyncio.sleep(1)

    assert await marks_move(http)
    assert (await http.post(SHOCK, json={"symbol": "BTCUSDT", "pct": -0.1})).status_code == 200


async def test_a_notional_shock_ends_when_the_book_stops_filling(http: httpx.AsyncClient) -> None:
    """Far more than the book holds: it sells what there is and stops, rather than send
    orders into an empty book without end."""
    await http.put("/stampede/admin/depth", json={"pct": 100})
    try:
        async with asyncio.timeout(20):
            response = await http.post(SHOCK, json={"symbol": "ETHUSDT", "notional": "-1e12"})
    finally:
        await http.put("/stampede/admin/depth", json={"pct": 0})
    assert response.status_code == 200, response.text
