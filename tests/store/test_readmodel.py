"""The read model's own sequences: how a component waits for it to catch up with the journal
before acting on what it shows (the market makers do, before their first quote)."""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

from exchange_mock.store.keys import Keys
from exchange_mock.store.readmodel import ReadModel

POLL_S = 0.01


def _model(redis: Redis) -> tuple[ReadModel, Keys]:
    keys = Keys(f"rm-{time.time_ns()}")
    return ReadModel(redis, keys), keys


async def test_caught_up_waits_for_the_projector_to_reach_the_journals_head(redis: Redis) -> None:
    model, keys = _model(redis)
    await redis.set(keys.journal_head, 50)
    await redis.set(keys.projector_seq, 10)
    waiting = asyncio.create_task(model.caught_up(asyncio.Event(), POLL_S))
    await asyncio.sleep(0.1)
    assert not waiting.done(), "the read model is 40 events behind"
    await redis.set(keys.journal_head, 80)  # later events: only the head first seen counts
    await redis.set(keys.projector_seq, 50)
    async with asyncio.timeout(2):
        await waiting
    assert await model.sequences() == (50, 80)


async def test_an_empty_journal_is_not_caught_up_with_until_its_genesis_is_projected(
    redis: Redis,
) -> None:
    model, keys = _model(redis)
    waiting = asyncio.create_task(model.caught_up(asyncio.Event(), POLL_S))
    await asyncio.sleep(0.1)
    assert not waiting.done(), "nothing journaled yet: the genesis is still to come"
    await redis.set(keys.journal_head, 5)
    await redis.set(keys.projector_seq, 5)
    async with asyncio.timeout(2):
        await waiting


async def test_caught_up_gives_up_when_asked_to_stop(redis: Redis) -> None:
    model, _ = _model(redis)
    stop = asyncio.Event()
    waiting = asyncio.create_task(model.caught_up(stop, POLL_S))
    stop.set()
    async with asyncio.timeout(2):
        await waiting
