"""The faults in force, shared by every process of one exchange through Redis.

One hash (`p:faults`, kind -> value) is the truth; every change is followed by a notice on
`p:faults:changed`. Each process keeps a copy (`LiveFaults`) that hot paths read without I/O:
it is refreshed on every notice, and at least every `REFRESH_S` in case a notice was missed
(pub/sub delivers at most once, and not to a process that was reconnecting).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from typing import cast

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from exchange_mock.faults.kinds import FaultKind, check
from exchange_mock.store.keys import Keys

REFRESH_S = 0.1
"""The oldest a process's copy of the faults gets when no change notice reaches it."""

Faults = dict[FaultKind, float]
"""The faults in force: only those that are on (non-zero)."""


class FaultBoard:
    """Reads and changes the shared faults; every change is one MULTI, notice included."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    async def load(self) -> Faults:
        raw = await cast(Awaitable[dict[bytes, bytes]], self._redis.hgetall(self._keys.faults))
        faults: Faults = {}
        for name, value in raw.items():
            try:
                kind = FaultKind(name.decode())
            except ValueError:
                # Written by a newer version of the exchange: not ours to apply.
                continue
            faults[kind] = float(value)
        return faults

    async def set(self, kind: FaultKind, value: float) -> None:
        """Switch one fault to `value`; 0 clears it."""
        check(kind, value)
        pipe = self._redis.pipeline(transaction=True)
        if value:
            pipe.hset(self._keys.faults, kind.value, repr(float(value)))
        else:
            pipe.hdel(self._keys.faults, kind.value)
        pipe.publish(self._keys.faults_changed, kind.value)
        await pipe.execute()

    async def replace(self, faults: Mapping[FaultKind, float]) -> None:
        """Make `faults` the only faults in force (none, to clear them all)."""
        active = {kind.value: repr(float(check(kind, v))) for kind, v in faults.items() if v}
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(self._keys.faults)
        if active:
            pipe.hset(self._keys.faults, mapping=active)
        pipe.publish(self._keys.faults_changed, "*")
        await pipe.execute()

    async def notices(self) -> PubSub:
        """A subscription to the notices that follow every change."""
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._keys.faults_changed)
        return pubsub


class LiveFaults:
    """This process's copy of the faults in force, read on hot paths without I/O."""

    def __init__(self, board: FaultBoard) -> None:
        self._board = board
        self._faults: Faults = {}

    def value(self, kind: FaultKind) -> float:
        """The fault's value in this process's copy; 0 when it is off."""
        return self._faults.get(kind, 0.0)

    async def refresh(self) -> None:
        self._faults = await self._board.load()

    async def run(self, stop: asyncio.Event) -> None:
        """Refresh on every change notice, and every `REFRESH_S` regardless, until `stop`."""
        pubsub = await self._board.notices()
        try:
            while not stop.is_set():
                await pubsub.get_message(ignore_subscribe_messages=True, timeout=REFRESH_S)
                await self.refresh()
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
