"""A snapshot lets the journal be trimmed, but never past what a reader has yet to read."""

from __future__ import annotations

from redis.asyncio import Redis

from exchange_mock.store.keys import Keys
from exchange_mock.store.snapshots import Snapshot, load_snapshot, save_snapshot, snapshot_age_ms
from exchange_mock.store.streams import journal_id


async def _journal(redis: Redis, keys: Keys, events: int) -> None:
    for seq in range(1, events + 1):
        await redis.xadd(keys.journal, {"m": b"{}"}, id=journal_id(seq))


async def test_the_journal_is_trimmed_below_the_slowest_reader(
    redis: Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    await _journal(redis, keys, 10)
    await redis.mset({keys.projector_seq: 6, keys.feeds_seq: 4})
    assert await save_snapshot(redis, keys, Snapshot(8, 1_000, b"state")) == 4
    assert (await redis.xrange(keys.journal, count=1))[0][0] == b"5-0"
    snapshot = await load_snapshot(redis, keys)
    assert snapshot == Snapshot(8, 1_000, b"state")
    assert await snapshot_age_ms(redis, keys, 1_250) == 250


async def test_a_reader_without_a_cursor_holds_the_whole_journal(
    redis: Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    await _journal(redis, keys, 10)
    await redis.set(keys.projector_seq, 10)
    assert await save_snapshot(redis, keys, Snapshot(10, 1_000, b"state")) == 0
    assert await redis.xlen(keys.journal) == 10
