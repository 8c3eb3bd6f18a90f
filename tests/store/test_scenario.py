"""The operator's market knobs in Redis: later settings win, shocks are taken once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from exchange_mock.redis_server import EmbeddedRedis
from exchange_mock.store.keys import Keys
from exchange_mock.store.scenario import Scenario, ScenarioBoard, VenueShock


@pytest.fixture
async def board(redis_server: EmbeddedRedis, key_prefix: str) -> AsyncIterator[ScenarioBoard]:
    client = Redis.from_url(redis_server.url)
    yield ScenarioBoard(client, Keys(key_prefix))
    await client.aclose()


async def test_nothing_set_is_the_default(board: ScenarioBoard) -> None:
    assert await board.take() == Scenario()


async def test_setting_every_name_clears_the_per_name_settings(board: ScenarioBoard) -> None:
    await board.set_oracle("spot", "USDE")
    await board.set_oracle("index", None)
    await board.set_oracle("spot", "BTCUSDT")
    await board.set_depth(60)
    scenario = await board.take()
    assert scenario.modes == {"*": "index", "BTCUSDT": "spot"}
    assert scenario.depth_pct == 60


async def test_shocks_are_taken_once_in_order(board: ScenarioBoard) -> None:
    first = VenueShock("BTCUSDT", pct=-6.0)
    second = VenueShock("USDEUSDT", venue="stampede", notional=-1e6)
    await board.push_shock(first)
    await board.push_shock(second)
    assert (await board.take()).shocks == [first, second]
    assert (await board.take()).shocks == []
