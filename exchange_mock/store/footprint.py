"""How much the exchange keeps in Redis, for an operator watching a long run: the journal's
length (trimmed below every reader once a snapshot is taken), the latest snapshot's age, and
Redis's memory against its limit."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio import Redis

from exchange_mock.store.keys import Keys
from exchange_mock.store.snapshots import snapshot_age_ms


@dataclass(frozen=True, slots=True)
class Footprint:
    journal_length: int
    snapshot_age_ms: int | None
    """None before the first snapshot."""
    redis_used_bytes: int
    redis_maxmemory_bytes: int
    """0: no limit."""


async def footprint(redis: Redis, keys: Keys, now_ms: int) -> Footprint:
    length = await cast(Awaitable[int], redis.xlen(keys.journal))
    memory = cast(dict[str, Any], await redis.info("memory"))
    return Footprint(
        length,
        await snapshot_age_ms(redis, keys, now_ms),
        int(memory["used_memory"]),
        int(memory.get("maxmemory", 0)),
    )
