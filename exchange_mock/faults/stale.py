"""Positions and balances from a lagging copy of the read model, while `stale_reads_ms` is set.

Each API process keeps a copy of every account it has served and refreshes one only when the
copy is at least the fault's age: a read is up to that many milliseconds behind the read model,
the way a cache or a lagging replica in front of it serves. The copy keeps the sequence it
reflects (`X-Stampede-Read-Seq`), while the journal head is read fresh, so the read's staleness
shows in its headers as it would to a white-box observer of a real replica.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from redis.asyncio import Redis

from exchange_mock.faults.kinds import FaultKind, FaultReader
from exchange_mock.store.keys import Keys
from exchange_mock.store.readmodel import ReadModel
from exchange_mock.store.views import AccountView
from exchange_mock.types import AccountId


class LaggingReadModel(ReadModel):
    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        faults: FaultReader,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(redis, keys)
        self._faults = faults
        self._clock = clock
        self._copies: dict[AccountId, tuple[float, AccountView]] = {}

    async def account(self, account: AccountId) -> AccountView:
        lag_s = self._faults.value(FaultKind.STALE_READS_MS) / 1000
        if lag_s <= 0:
            if self._copies:
                self._copies.clear()
            return await super().account(account)
        now = self._clock()
        copy = self._copies.get(account)
        if copy is None or now - copy[0] >= lag_s:
            view = await super().account(account)
            self._copies[account] = (now, view)
            return view
        head = await self._redis.get(self._keys.journal_head)
        return replace(copy[1], journal_head=int(head or 0))
