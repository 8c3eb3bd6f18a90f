"""The exchange's Redis pool, against the real server: bounded, first come first served when
full, and never handing out a connection with a reply left unread."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from exchange_mock.redis_server import EmbeddedRedis
from exchange_mock.store.pool import BoundedPool


@pytest.fixture
async def one_connection(redis_server: EmbeddedRedis) -> AsyncIterator[Redis]:
    client = Redis(connection_pool=BoundedPool.from_url(redis_server.url, max_connections=1))
    yield client
    await client.aclose()


async def test_a_free_connection_is_reused(one_connection: Redis) -> None:
    ids = {await one_connection.client_id() for _ in range(20)}
    assert len(ids) == 1


async def test_a_full_pool_queues_checkouts_and_serves_them_in_arrival_order(
    one_connection: Redis, redis: Redis, key_prefix: str
) -> None:
    queue, served = f"{key_prefix}:queue", []

    async def count(label: str) -> None:
        await one_connection.incr(f"{key_prefix}:count")
        served.append(label)

    holder = asyncio.create_task(one_connection.blpop([queue], timeout=5))
    await asyncio.sleep(0.05)
    waiters = [asyncio.create_task(count(label)) for label in "abcde"]
    await asyncio.sleep(0.1)
    assert served == []  # the only connection is busy: they wait rather than open another

    await redis.rpush(queue, "go")
    assert tuple(await holder) == (queue.encode(), b"go")
    await asyncio.gather(*waiters)
    assert served == list("abcde")
    # Once the queue has drained, checkouts take the fast path again on the same connection.
    assert await one_connection.get(f"{key_prefix}:count") == b"5"


async def test_an_interrupted_command_leaves_no_reply_for_the_next(
    one_connection: Redis, redis: Redis, key_prefix: str
) -> None:
    await redis.set(f"{key_prefix}:x", "x")
    slow = asyncio.create_task(one_connection.blpop([f"{key_prefix}:never"], timeout=5))
    await asyncio.sleep(0.05)
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    await redis.rpush(f"{key_prefix}:never", "late")  # a reply the cancelled command never reads

    assert await one_connection.get(f"{key_prefix}:x") == b"x"
