"""Redis latency by class of operation, added on the connection before a command is sent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import BlockingConnectionPool, Redis

from exchange_mock.faults.kinds import FaultKind
from exchange_mock.faults.latency import SlowConnection
from exchange_mock.redis_server import EmbeddedRedis
from tests.faults.fakes import SetFaults

DELAY_MS = 100


@pytest.fixture
async def slow(
    redis_server: EmbeddedRedis, faults: SetFaults, key_prefix: str
) -> AsyncIterator[Redis]:
    pool = BlockingConnectionPool.from_url(
        redis_server.url,
        max_connections=4,
        connection_class=SlowConnection,
        faults=faults,
        streams=(f"{key_prefix}:s",),
    )
    client = Redis(connection_pool=pool)
    await client.ping()  # connected, so no test times the connection setup
    yield client
    await client.aclose()
    await pool.disconnect()


async def seconds(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


@pytest.mark.parametrize(
    ("kind", "slowed", "not_slowed"),
    [
        (FaultKind.REDIS_READ_DELAY_MS, "get", "set"),
        (FaultKind.REDIS_WRITE_DELAY_MS, "set", "xadd"),
        (FaultKind.REDIS_APPEND_DELAY_MS, "xadd", "get"),
    ],
)
async def test_each_class_of_command_is_slowed_by_its_own_fault(
    slow: Redis, faults: SetFaults, key_prefix: str, kind: FaultKind, slowed: str, not_slowed: str
) -> None:
    calls: dict[str, Callable[[], Awaitable[Any]]] = {
        "get": lambda: slow.get(f"{key_prefix}:k"),
        "set": lambda: slow.set(f"{key_prefix}:k", 1),
        "xadd": lambda: slow.xadd(f"{key_prefix}:s", {"m": 1}),
    }
    faults.faults[kind] = DELAY_MS

    assert await seconds(calls[slowed]) >= DELAY_MS / 1000
    assert await seconds(calls[not_slowed]) < DELAY_MS / 2000

    faults.faults.clear()
    assert await seconds(calls[slowed]) < DELAY_MS / 2000


async def test_a_pipeline_waits_once_for_its_slowest_class(
    slow: Redis, faults: SetFaults, key_prefix: str
) -> None:
    faults.faults |= {
        FaultKind.REDIS_READ_DELAY_MS: DELAY_MS / 2,
        FaultKind.REDIS_APPEND_DELAY_MS: DELAY_MS,
    }
    pipe = slow.pipeline(transaction=True)
    pipe.get(f"{key_prefix}:k")
    pipe.xadd(f"{key_prefix}:s", {"m": 1})
    pipe.get(f"{key_prefix}:k")

    took = await seconds(pipe.execute)

    assert DELAY_MS / 1000 <= took < 1.5 * DELAY_MS / 1000


async def test_scripts_count_as_writes_and_ping_is_never_slowed(
    slow: Redis, faults: SetFaults
) -> None:
    script = slow.register_script("return 1")
    await script()
    faults.faults[FaultKind.REDIS_WRITE_DELAY_MS] = DELAY_MS
    faults.faults[FaultKind.REDIS_READ_DELAY_MS] = DELAY_MS

    assert await seconds(script) >= DELAY_MS / 1000
    assert await seconds(slow.ping) < DELAY_MS / 2000


async def test_a_script_whose_first_key_is_a_stream_counts_as_an_append(
    slow: Redis, faults: SetFaults, key_prefix: str
) -> None:
    append = slow.register_script("return redis.call('XADD', KEYS[1], '*', 'm', 1)")
    await append([f"{key_prefix}:s"])
    faults.faults[FaultKind.REDIS_APPEND_DELAY_MS] = DELAY_MS

    assert await seconds(lambda: append([f"{key_prefix}:s"])) >= DELAY_MS / 1000
    assert await seconds(lambda: append([f"{key_prefix}:other"])) < DELAY_MS / 2000


async def test_a_slow_connection_stays_checked_out_so_a_small_pool_queues(
    slow: Redis, faults: SetFaults, key_prefix: str
) -> None:
    faults.faults[FaultKind.REDIS_READ_DELAY_MS] = DELAY_MS
    started = time.perf_counter()

    await asyncio.gather(*(slow.get(f"{key_prefix}:k") for _ in range(8)))

    # Four connections, eight reads: two rounds of the delay, not one.
    assert time.perf_counter() - started >= 2 * DELAY_MS / 1000
