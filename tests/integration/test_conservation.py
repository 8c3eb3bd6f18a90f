"""After a randomized burst of a few thousand orders from many accounts: nothing acknowledged
is missing from the journal, and cash and positions are conserved to the last unit."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis

from exchange_mock.accounts import AccountBook
from exchange_mock.store.keys import Keys
from tests.integration.burst import burst, journaled_order_ids, quiet_audit
from tests.integration.conftest import Exchange


@pytest.fixture
async def redis(exchange: Exchange) -> AsyncIterator[Redis]:
    assert exchange.settings.redis_url is not None
    client = Redis.from_url(exchange.settings.redis_url)
    yield client
    await client.aclose()


async def test_burst_conserves_cash_and_positions_and_journals_every_ack(
    http: httpx.AsyncClient, accounts: AccountBook, exchange: Exchange, redis: Redis
) -> None:
    result = await burst(exchange.url, accounts.traders, orders=3_000)
    assert result.statuses.get(200, 0) > 2_000, result.statuses
    assert not set(result.statuses) - {200, 400}, result.statuses
    keys = Keys(exchange.settings.key_prefix)
    report = await quiet_audit(redis, keys, accounts.accounts)
    assert report.cash_conserved, report
    assert report.positions_balanced, report
    journaled = await journaled_order_ids(redis, keys)
    assert result.acknowledged <= set(journaled)
    assert not [i for i, n in Counter(journaled).items() if n > 1], "an order was journaled twice"
