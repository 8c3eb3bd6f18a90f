"""Fixtures for the fault tests: a client of the session's real Redis, and faults a test sets by
hand."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from exchange_mock.redis_server import EmbeddedRedis
from tests.faults.fakes import SetFaults


@pytest.fixture
async def redis(redis_server: EmbeddedRedis) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


@pytest.fixture
def faults() -> SetFaults:
    return SetFaults()
