"""The store tests' shared piece: a way to put events in a journal and let the real projector
apply them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from redis.asyncio import Redis

from exchange_mock.domain import codec
from exchange_mock.domain.events import Event
from exchange_mock.projector.history import HistoryBounds
from exchange_mock.projector.runner import Projector
from exchange_mock.store.keys import Keys
from exchange_mock.store.streams import journal_id
from exchange_mock.symbols import SymbolTable

BOUNDS = HistoryBounds(window_ms=86_400_000, rows=100)
"""Few trades kept, so a test can fill a symbol's history past its bound."""

Project = Callable[..., Coroutine[Any, Any, None]]


async def _project(
    redis: Redis, keys: Keys, events: list[Event], journaled: int = 0, retention_ms: int = 0
) -> None:
    """Journal `events` after the first `journaled` (already there) and project them all,
    finished orders kept for `retention_ms` (0: for good)."""
    for seq, event in enumerate(events[journaled:], start=journaled + 1):
        await redis.xadd(keys.journal, {"m": codec.encode(event), "c": "0-1"}, id=journal_id(seq))
    await redis.set(keys.journal_head, len(events))
    projector = Projector(
        redis, keys, SymbolTable.load(), batch=4, bounds=BOUNDS, order_retention_ms=retention_ms
    )
    stop = asyncio.Event()
    task = asyncio.create_task(projector.run(stop))
    try:
        async with asyncio.timeout(5):
            while projector.seq < len(events):
                await asyncio.sleep(0.01)
    finally:
        stop.set()
        await task


@pytest.fixture
def project() -> Project:
    return _project
