"""Listen keys live for their TTL after a start or a keepalive, and not after a close."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from exchange_mock.store.keys import Keys
from exchange_mock.store.listenkeys import ListenKeys
from exchange_mock.types import AccountId

KEY = "ab" * 32


async def test_a_started_key_lives_for_its_ttl_then_expires(redis: Redis, key_prefix: str) -> None:
    keys = ListenKeys(redis, Keys(key_prefix), ttl_ms=200)
    assert await keys.remaining_ms(KEY) == 0

    await keys.start(KEY, AccountId(3))

    assert 0 < await keys.remaining_ms(KEY) <= 200
    await asyncio.sleep(0.3)
    assert await keys.remaining_ms(KEY) == 0
    assert not await keys.keep_alive(KEY)


async def test_a_keepalive_extends_a_live_key_by_a_full_ttl(redis: Redis, key_prefix: str) -> None:
    keys = ListenKeys(redis, Keys(key_prefix), ttl_ms=300)
    await keys.start(KEY, AccountId(3))
    await asyncio.sleep(0.2)

    assert await keys.keep_alive(KEY)

    assert await keys.remaining_ms(KEY) > 200


async def test_a_closed_key_is_not_live(redis: Redis, key_prefix: str) -> None:
    keys = ListenKeys(redis, Keys(key_prefix), ttl_ms=60_000)
    await keys.start(KEY, AccountId(3))

    await keys.close(KEY)

    assert await keys.remaining_ms(KEY) == 0
    assert not await keys.keep_alive(KEY)
