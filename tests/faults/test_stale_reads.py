"""Positions and balances from a lagging copy of the read model while `stale_reads_ms` is set."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from exchange_mock.faults.kinds import FaultKind
from exchange_mock.faults.stale import LaggingReadModel
from exchange_mock.store import records
from exchange_mock.store.keys import Keys
from exchange_mock.types import AccountId
from tests.faults.fakes import SetFaults

TRADER = AccountId(7)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def keys(key_prefix: str) -> Keys:
    return Keys(key_prefix)


@pytest.fixture
def reads(redis: Redis, keys: Keys, faults: SetFaults, clock: Clock) -> LaggingReadModel:
    return LaggingReadModel(redis, keys, faults, clock)


async def project(redis: Redis, keys: Keys, seq: int, position: int) -> None:
    """What the projector writes after applying event `seq`: a position of `position` lots."""
    await redis.hset(
        keys.account(TRADER),
        mapping={"pos:BTCUSDT": records.dump_position(position, position * 100, seq), "seq": seq},
    )
    await redis.mset({keys.projector_seq: seq, keys.journal_head: seq})


async def test_without_the_fault_every_read_is_fresh(
    reads: LaggingReadModel, redis: Redis, keys: Keys
) -> None:
    await project(redis, keys, seq=1, position=5)
    assert (await reads.account(TRADER)).positions["BTCUSDT"].qty == 5

    await project(redis, keys, seq=2, position=6)

    assert (await reads.account(TRADER)).positions["BTCUSDT"].qty == 6


async def test_reads_lag_by_up_to_the_fault_and_show_it_in_their_sequences(
    reads: LaggingReadModel, redis: Redis, keys: Keys, faults: SetFaults, clock: Clock
) -> None:
    faults.faults[FaultKind.STALE_READS_MS] = 500
    await project(redis, keys, seq=1, position=5)
    await reads.account(TRADER)
    await project(redis, keys, seq=2, position=6)

    clock.now += 0.499
    stale = await reads.account(TRADER)
    assert stale.positions["BTCUSDT"].qty == 5
    assert (stale.projected_seq, stale.seq, stale.journal_head) == (1, 1, 2)

    clock.now += 0.001
    fresh = await reads.account(TRADER)
    assert fresh.positions["BTCUSDT"].qty == 6
    assert (fresh.projected_seq, fresh.journal_head) == (2, 2)


async def test_clearing_the_fault_serves_fresh_reads_at_once(
    reads: LaggingReadModel, redis: Redis, keys: Keys, faults: SetFaults
) -> None:
    faults.faults[FaultKind.STALE_READS_MS] = 60_000
    await project(redis, keys, seq=1, position=5)
    await reads.account(TRADER)
    await project(redis, keys, seq=2, position=6)
    assert (await reads.account(TRADER)).positions["BTCUSDT"].qty == 5

    faults.faults.clear()

    assert (await reads.account(TRADER)).positions["BTCUSDT"].qty == 6
