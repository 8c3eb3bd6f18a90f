"""How far behind the pipeline runs: the commands queued in front of the engine, and how far the
projector's read model trails the journal, in events and in milliseconds.

The lag in milliseconds is the age of the oldest journaled event the read model does not yet
reflect (from the time the engine journaled it), so it is how stale a read made now can be.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from exchange_mock.store.keys import Keys
from exchange_mock.store.streams import journal_id, read_range


@dataclass(frozen=True, slots=True)
class Backlog:
    orders_queued: int
    journal_head: int
    projected_seq: int
    projector_lag_ms: int

    @property
    def projector_lag_events(self) -> int:
        return self.journal_head - self.projected_seq


async def backlog(redis: Redis, keys: Keys, now_ms: int) -> Backlog:
    pipe = redis.pipeline(transaction=False)
    pipe.xlen(keys.orders)
    pipe.get(keys.journal_head)
    pipe.get(keys.projector_seq)
    queued, head, projected = await pipe.execute()
    head, projected = int(head or 0), int(projected or 0)
    lag_ms = 0
    if head > projected:
        oldest_missing = await read_range(redis, keys.journal, journal_id(projected), 1)
        if oldest_missing and b"t" in oldest_missing[0][1]:
            lag_ms = max(0, now_ms - int(oldest_missing[0][1][b"t"]))
    return Backlog(int(queued), head, projected, lag_ms)
