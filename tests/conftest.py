"""Shared fixtures: one real embedded redis-server for the whole test session, and an async
client of it per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from exchange_mock.redis_server import EmbeddedRedis


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    with EmbeddedRedis() as server:
        yield server


@pytest.fixture
async def redis(redis_server: EmbeddedRedis) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


@pytest.fixture
def key_prefix(request: pytest.FixtureRequest) -> str:
    """A key namespace per test, so tests share one server without sharing state."""
    return f"t{abs(hash(request.node.nodeid)) % 10**10}"
