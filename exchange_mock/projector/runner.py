"""The projector's loop: follow the journal and apply each batch of events to the read model in
one MULTI, together with the sequence it reached, so a crash never applies an event twice.

The `projector_paused`, `projector_delay_ms` and `projector_event_delay_us` faults stop or slow
this loop; the read model then falls behind the journal by however much the load makes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import cast

from redis.asyncio import Redis

from exchange_mock.domain import codec
from exchange_mock.faults.kinds import NO_FAULTS, FaultKind, FaultReader
from exchange_mock.faults.pacing import LoopFaults
from exchange_mock.projector.history import AccountHistory, HistoryBounds, MarketHistory
from exchange_mock.projector.open_interest import OpenInterest
from exchange_mock.projector.open_orders import OpenOrders
from exchange_mock.projector.projection import Projection
from exchange_mock.store.keys import Keys
from exchange_mock.store.readmodel import ReadModel
from exchange_mock.store.streams import IDLE_BLOCK_MS, entry_seq, journal_id, read_after
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import AccountId


class Projector:
    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        symbols: SymbolTable,
        batch: int,
        bounds: HistoryBounds,
        faults: FaultReader = NO_FAULTS,
        order_retention_ms: int = 0,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._symbols = symbols
        self._batch = batch
        self._bounds = bounds
        self._faults = LoopFaults(
            faults,
            FaultKind.PROJECTOR_PAUSED,
            FaultKind.PROJECTOR_DELAY_MS,
            FaultKind.PROJECTOR_EVENT_DELAY_US,
        )
        self._order_retention_ms = order_retention_ms
        self.seq = 0

    async def _load_accounts(self) -> tuple[OpenOrders, OpenInterest]:
        """The open orders' margin and every position's size, from the read model."""
        reads = ReadModel(self._redis, self._keys)
        accounts = await cast(Awaitable[set[bytes]], self._redis.smembers(self._keys.accounts))
        snapshots = []
        positions: dict[tuple[AccountId, str], int] = {}
        for account in sorted(AccountId(int(each)) for each in accounts):
            snapshots.extend(await reads.open_orders(account, None))
            view = await reads.account(account)
            positions.update({(account, p.symbol): p.qty for p in view.positions.values()})
        marks = {
            spec.symbol: (await reads.mark(spec.symbol)).price or 0
            for spec in self._symbols.symbols
        }
        interest = OpenInterest(self._keys, self._symbols, self._bounds.window_ms, positions, marks)
        return OpenOrders(self._symbols, snapshots), interest

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the journal until `stop` is set."""
        self.seq = int(await self._redis.get(self._keys.projector_seq) or 0)
        reads, names = ReadModel(self._redis, self._keys), self._symbols.by_name
        history = MarketHistory(
            self._keys, self._symbols, self._bounds, await reads.bars_now(names)
        )
        open_orders, interest = await self._load_accounts()
        projection = Projection(
            self._keys,
            self._symbols,
            await reads.tickers(names),
            open_orders,
            history,
            AccountHistory(self._keys, self._symbols, self._bounds),
            interest,
            self._order_retention_ms,
        )
        while not stop.is_set():
            entries = await read_after(
                self._redis, self._keys.journal, journal_id(self.seq), self._batch, IDLE_BLOCK_MS
            )
            if not entries:
                continue
            if not await self._faults.ready(stop, len(entries)):
                break
            pipe = self._redis.pipeline(transaction=True)
            last = self.seq
            for entry_id, fields in entries:
                last = entry_seq(entry_id)
                projection.apply(pipe, last, codec.decode_event(fields[b"m"]))
            projection.flush(pipe)
            pipe.set(self._keys.projector_seq, last)
            await pipe.execute()
            self.seq = last
