"""Typed access to the two Redis streams (orders, journal): redis-py's own types for XREAD are
too loose to check, so the one cast lives here."""

from __future__ import annotations

from typing import Any, cast

from redis.asyncio import Redis

Entry = tuple[bytes, dict[bytes, bytes]]

IDLE_BLOCK_MS = 200
"""The longest a loop's read waits, so a stop request is seen promptly: loops end by checking a
flag, never by cancelling a Redis command in flight (redis-py's cancellation has a history of
leaving connections hung)."""


async def read_after(
    redis: Redis, stream: str, after: str, count: int, block_ms: int | None
) -> list[Entry]:
    """Entries of `stream` with ids greater than `after`, waiting up to `block_ms` for one."""
    reply = cast(
        list[tuple[Any, list[Entry]]],
        await redis.xread({stream: after}, count=count, block=block_ms),
    )
    return reply[0][1] if reply else []


async def read_range(redis: Redis, stream: str, after: str, count: int) -> list[Entry]:
    """Entries after `after` without waiting (for catching up from the start)."""
    return cast(list[Entry], await redis.xrange(stream, min=f"({after}", count=count))


def journal_id(seq: int) -> str:
    """The journal's entry id for sequence `seq`: the id *is* the sequence."""
    return f"{seq}-0"


def entry_seq(entry_id: bytes) -> int:
    """The journal sequence of a stream entry id `<seq>-0`."""
    return int(entry_id.partition(b"-")[0])
