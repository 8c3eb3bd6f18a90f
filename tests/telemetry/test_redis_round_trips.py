"""Every Redis round trip the exchange makes is timed once, under its command's name, on the
session's real Redis; commands that wait by design are not."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import ResponseError

from exchange_mock.faults.kinds import FaultKind
from exchange_mock.redis_server import EmbeddedRedis
from exchange_mock.telemetry.redis_latency import MeasuredConnection
from tests.faults.fakes import SetFaults
from tests.telemetry.metrics import sample

COUNT = "stampede_exchange_redis_command_duration_seconds_count"
SUM = "stampede_exchange_redis_command_duration_seconds_sum"


@pytest.fixture
async def faults() -> SetFaults:
    return SetFaults()


@pytest.fixture
async def redis(redis_server: EmbeddedRedis, faults: SetFaults) -> AsyncIterator[Redis]:
    pool = BlockingConnectionPool.from_url(
        redis_server.url, max_connections=2, connection_class=MeasuredConnection, faults=faults
    )
    client = Redis(connection_pool=pool)
    await client.ping()
    yield client
    await client.aclose()
    await pool.disconnect()


def counts(*commands: str) -> dict[str, float]:
    return {command: sample(COUNT, command=command) for command in commands}


async def test_each_command_is_one_round_trip_under_its_name(redis: Redis, key_prefix: str) -> None:
    before = counts("SET", "GET", "HGETALL")
    await redis.set(f"{key_prefix}:k", "v")
    await redis.get(f"{key_prefix}:k")
    await redis.get(f"{key_prefix}:missing")  # a nil reply is a reply
    await redis.hgetall(f"{key_prefix}:h")
    after = counts("SET", "GET", "HGETALL")
    assert {c: after[c] - before[c] for c in after} == {"SET": 1, "GET": 2, "HGETALL": 1}


async def test_a_pipeline_is_one_round_trip_not_one_per_command(
    redis: Redis, key_prefix: str
) -> None:
    before = counts("MULTI", "PIPELINE", "SET", "INCRBY")
    transaction = redis.pipeline(transaction=True)
    transaction.set(f"{key_prefix}:a", 1).incr(f"{key_prefix}:a")
    await transaction.execute()
    pipeline = redis.pipeline(transaction=False)
    pipeline.set(f"{key_prefix}:b", 1).incr(f"{key_prefix}:b").incr(f"{key_prefix}:b")
    await pipeline.execute()
    after = counts("MULTI", "PIPELINE", "SET", "INCRBY")
    assert {c: after[c] - before[c] for c in after} == {
        "MULTI": 1,
        "PIPELINE": 1,
        "SET": 0,
        "INCRBY": 0,
    }


async def test_a_blocking_read_is_not_latency_and_a_plain_one_is(
    redis: Redis, key_prefix: str
) -> None:
    stream = f"{key_prefix}:s"
    before = sample(COUNT, command="XREAD")
    await redis.xread({stream: "0-0"}, count=1, block=50)  # waits, by design
    assert sample(COUNT, command="XREAD") == before
    await redis.xread({stream: "0-0"}, count=1)
    assert sample(COUNT, command="XREAD") == before + 1


async def test_an_error_reply_is_still_a_round_trip(redis: Redis, key_prefix: str) -> None:
    await redis.set(f"{key_prefix}:text", "not a number")
    before = sample(COUNT, command="INCRBY")  # what redis-py sends for incr
    with pytest.raises(ResponseError):
        await redis.incr(f"{key_prefix}:text")
    assert sample(COUNT, command="INCRBY") == before + 1


async def test_injected_latency_is_part_of_the_round_trip(
    redis: Redis, faults: SetFaults, key_prefix: str
) -> None:
    faults.faults[FaultKind.REDIS_READ_DELAY_MS] = 60
    before = sample(SUM, command="EXISTS")
    await redis.exists(f"{key_prefix}:k")
    assert sample(SUM, command="EXISTS") - before >= 0.06
