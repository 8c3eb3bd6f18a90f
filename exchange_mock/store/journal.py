"""Reading the journal back: for the engine's recovery and for audits of what was journaled."""

from __future__ import annotations

from collections.abc import AsyncIterator

from redis.asyncio import Redis

from exchange_mock.domain import codec
from exchange_mock.domain.events import Event
from exchange_mock.store import streams
from exchange_mock.store.keys import Keys

CHUNK = 10_000


async def read_journal(
    redis: Redis, keys: Keys, after: int = 0
) -> AsyncIterator[tuple[int, Event]]:
    """Every journaled event after sequence `after`, in order, with its sequence."""
    while entries := await streams.read_range(
        redis, keys.journal, streams.journal_id(after), CHUNK
    ):
        for entry_id, fields in entries:
            after = streams.entry_seq(entry_id)
            yield after, codec.decode_event(fields[b"m"])
