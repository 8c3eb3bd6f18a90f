"""The engine's snapshots, and the journal trimmed below what every reader has read.

Replaying the whole journal at every start would make a restart as slow as the run was long, and
the journal would grow without end. So the engine saves its state now and then (`p:snapshot`: the
journal sequence it reflects, when it was taken, and the state), and a restart replays only the
journal after it. Entries at or below every reader's cursor are then of no more use and are
trimmed: the snapshot's sequence (the engine's restart), the projector's (`p:projector:seq`) and
the feed publisher's (`p:feeds:seq`). A reader that has never recorded a cursor holds the whole
journal: nothing is trimmed until it has.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis

from exchange_mock.store.keys import Keys
from exchange_mock.store.streams import journal_id


@dataclass(frozen=True, slots=True)
class Snapshot:
    seq: int
    taken_ms: int
    state: bytes


async def load_snapshot(redis: Redis, keys: Keys) -> Snapshot | None:
    fields = await cast(Awaitable[dict[bytes, bytes]], redis.hgetall(keys.snapshot))
    if not fields:
        return None
    return Snapshot(int(fields[b"seq"]), int(fields[b"at"]), fields[b"state"])


async def snapshot_age_ms(redis: Redis, keys: Keys, now_ms: int) -> int | None:
    taken = await cast(Awaitable[bytes | None], redis.hget(keys.snapshot, "at"))
    return None if taken is None else now_ms - int(taken)


async def save_snapshot(redis: Redis, keys: Keys, snapshot: Snapshot) -> int:
    """Save the engine's state, then trim the journal below every reader's cursor; how many
    entries were trimmed."""
    seq, state = snapshot.seq, snapshot.state
    await cast(
        Awaitable[int],
        redis.hset(keys.snapshot, mapping={"seq": seq, "at": snapshot.taken_ms, "state": state}),
    )
    projected, published = await redis.mget(keys.projector_seq, keys.feeds_seq)
    if projected is None or published is None:
        return 0
    floor = min(seq, int(projected), int(published))
    trimmed = redis.xtrim(keys.journal, minid=journal_id(floor + 1), approximate=False)
    return cast(int, await trimmed)
