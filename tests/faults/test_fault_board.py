"""The shared faults: one Redis hash, changes announced, each process's copy kept fresh."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from exchange_mock.faults.board import REFRESH_S, FaultBoard, LiveFaults
from exchange_mock.faults.kinds import FaultKind
from exchange_mock.redis_server import EmbeddedRedis
from exchange_mock.store.keys import Keys


@pytest.fixture
def board(redis: Redis, key_prefix: str) -> FaultBoard:
    return FaultBoard(redis, Keys(key_prefix))


@pytest.fixture
async def other_process(redis_server: EmbeddedRedis, key_prefix: str) -> AsyncIterator[LiveFaults]:
    """Another process's copy of the faults, over a client of its own, following changes."""
    client = Redis.from_url(redis_server.url)
    keys = Keys(key_prefix)
    its_board = FaultBoard(client, keys)
    live = LiveFaults(its_board)
    stop = asyncio.Event()
    following = asyncio.create_task(live.run(stop))
    await asyncio.sleep(0.05)  # subscribed
    yield live
    stop.set()
    await its_board.replace({})  # a notice, so the copy sees the stop without waiting
    await following
    await client.aclose()


async def until(condition: Callable[[], bool], timeout_s: float) -> float:
    """Seconds until `condition()` holds (fails past `timeout_s`)."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout_s, "not within the time allowed"
        await asyncio.sleep(0.002)
    return time.monotonic() - started


async def test_set_faults_are_loaded_and_zero_clears_one(board: FaultBoard) -> None:
    await board.set(FaultKind.ENGINE_DELAY_MS, 250)
    await board.set(FaultKind.FEED_DELAY_MS, 40.5)
    assert await board.load() == {FaultKind.ENGINE_DELAY_MS: 250, FaultKind.FEED_DELAY_MS: 40.5}

    await board.set(FaultKind.ENGINE_DELAY_MS, 0)

    assert await board.load() == {FaultKind.FEED_DELAY_MS: 40.5}


async def test_replace_makes_exactly_those_faults_in_force(board: FaultBoard) -> None:
    await board.set(FaultKind.ENGINE_PAUSED, 1)
    await board.replace({FaultKind.API_DELAY_MS: 5, FaultKind.UNAVAILABLE_PCT: 0})
    assert await board.load() == {FaultKind.API_DELAY_MS: 5}

    await board.replace({})

    assert await board.load() == {}


async def test_a_value_out_of_range_changes_nothing(board: FaultBoard) -> None:
    with pytest.raises(ValueError):
        await board.set(FaultKind.UNAVAILABLE_PCT, 101)
    assert await board.load() == {}


async def test_kinds_this_version_does_not_know_are_ignored(
    board: FaultBoard, redis: Redis, key_prefix: str
) -> None:
    await redis.hset(Keys(key_prefix).faults, mapping={"gremlins": "1", "api_delay_ms": "3"})

    assert await board.load() == {FaultKind.API_DELAY_MS: 3}


async def test_another_process_sees_a_change_by_its_notice(
    board: FaultBoard, other_process: LiveFaults, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With the periodic refresh out of the way, only the notice can bring the change.
    monkeypatch.setattr("exchange_mock.faults.board.REFRESH_S", 60)
    await board.set(FaultKind.FEED_DELAY_MS, 1)  # wakes the copy into its long wait
    await until(lambda: other_process.value(FaultKind.FEED_DELAY_MS) == 1, 1)

    await board.set(FaultKind.FEED_DELAY_MS, 25)
    await until(lambda: other_process.value(FaultKind.FEED_DELAY_MS) == 25, 1)
    await board.replace({})
    await until(lambda: other_process.value(FaultKind.FEED_DELAY_MS) == 0, 1)


async def test_a_change_without_a_notice_is_seen_within_the_refresh_period(
    redis: Redis, key_prefix: str, other_process: LiveFaults
) -> None:
    await redis.hset(Keys(key_prefix).faults, "engine_paused", "1")

    await until(lambda: other_process.value(FaultKind.ENGINE_PAUSED) == 1, REFRESH_S * 3)
