"""A loop that loses Redis runs again once Redis answers; anything else ends it."""

from __future__ import annotations

import asyncio
import random

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError, ResponseError

from exchange_mock.store.outage import Backoff, OutageLog, every, keep_running


def test_backoff_doubles_with_jitter_up_to_its_cap() -> None:
    backoff, rng = Backoff(first_s=0.1, cap_s=1.0), random.Random(1)
    assert 0.05 <= backoff.delay_s(0, rng) <= 0.1
    assert 0.1 <= backoff.delay_s(1, rng) <= 0.2
    assert all(0.5 <= backoff.delay_s(n, rng) <= 1.0 for n in range(4, 100))


async def test_a_loop_that_lost_redis_runs_again_logging_each_outage_and_its_end(
    redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    runs = 0

    async def run(stop: asyncio.Event) -> None:
        nonlocal runs
        runs += 1
        if runs < 4:
            raise RedisConnectionError("Connection closed by server.")

    outage = OutageLog("loop")
    await keep_running("loop", run, asyncio.Event(), redis, outage, Backoff(0.001, 0.002))
    assert runs == 4 and outage.since is None
    messages = [record.getMessage() for record in caplog.records]
    assert sum("Redis unreachable" in m for m in messages) == 3
    assert sum("Redis reachable again" in m for m in messages) == 3


async def test_other_errors_end_the_loop(redis: Redis) -> None:
    async def run(stop: asyncio.Event) -> None:
        raise ValueError("not an event")

    with pytest.raises(ValueError):
        await keep_running("loop", run, asyncio.Event(), redis)


async def test_a_sampler_skips_what_redis_cannot_take_and_keeps_sampling(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two samples lost to an outage (logged once, and its end once), one to a refused
    command (a warning): the loop samples on until stopped."""
    failures: list[Exception] = [
        RedisConnectionError("Connection refused"),
        RedisConnectionError("Connection refused"),
        ResponseError("WRONGTYPE"),
    ]
    taken = 0
    stop = asyncio.Event()

    async def sample() -> None:
        nonlocal taken
        if failures:
            raise failures.pop(0)
        taken += 1
        if taken == 2:
            stop.set()

    async with asyncio.timeout(5):
        await every("metrics", 0.001, sample, stop)
    messages = [record.getMessage() for record in caplog.records]
    assert taken == 2
    assert sum("Redis unreachable" in m for m in messages) == 1, messages
    assert sum("Redis reachable again" in m for m in messages) == 1, messages
    assert sum("sample failed" in m for m in messages) == 1, messages


async def test_a_sampler_on_a_full_redis_logs_it_once_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A full Redis is an outage a rehearsal makes on purpose: one line, no stack."""
    failures: list[Exception] = [
        OutOfMemoryError("command not allowed when used memory > 'maxmemory'."),
        ResponseError("OOM command not allowed when used memory > 'maxmemory'. script: x"),
    ]
    stop = asyncio.Event()

    async def sample() -> None:
        if failures:
            raise failures.pop(0)
        stop.set()

    async with asyncio.timeout(5):
        await every("vitals", 0.001, sample, stop)
    assert not [record for record in caplog.records if record.exc_info]
    messages = [record.getMessage() for record in caplog.records]
    assert sum("Redis unreachable" in m for m in messages) == 1, messages
    assert sum("Redis reachable again" in m for m in messages) == 1, messages
