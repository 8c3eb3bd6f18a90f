"""Open interest from the journal: per symbol, the long lots all accounts hold (equal to the
short lots, positions being conserved), now and in five-minute snapshots for its history.

The projector sees each position's new size only, so it keeps every position's size (loaded
once at start from the read model) to know by how much the total moved.
"""

from __future__ import annotations

from redis.asyncio.client import Pipeline

from exchange_mock.domain.events import PositionChanged
from exchange_mock.store import records
from exchange_mock.store.keys import Keys
from exchange_mock.store.views import OpenInterestView
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import AccountId, Lots, Ticks

SNAPSHOT_MS = 300_000
"""Binance's shortest openInterestHist period, and the history's grain."""


class OpenInterest:
    def __init__(
        self,
        keys: Keys,
        symbols: SymbolTable,
        window_ms: int,
        positions: dict[tuple[AccountId, str], Lots],
        marks: dict[str, Ticks],
    ) -> None:
        self._keys = keys
        self._symbols = symbols
        self._window_ms = window_ms
        self._positions = positions
        self._marks = marks
        self._longs: dict[str, Lots] = {}
        self._snapshots: dict[str, int] = {}
        """Per symbol, the snapshot last written, which later changes in its five minutes
        replace."""
        for (_account, symbol), qty in positions.items():
            self._longs[symbol] = self._longs.get(symbol, 0) + max(qty, 0)

    def mark(self, symbol: str, price: Ticks) -> None:
        """The mark the next snapshot values the open interest at."""
        self._marks[symbol] = price

    def position(self, pipe: Pipeline, change: PositionChanged) -> None:
        symbol, place = change.symbol, (change.account, change.symbol)
        before = self._positions.get(place, 0)
        self._positions[place] = change.qty
        moved = max(change.qty, 0) - max(before, 0)
        if not moved:
            return
        longs = self._longs[symbol] = self._longs.get(symbol, 0) + moved
        now = OpenInterestView(change.ts, longs, 0)
        pipe.hset(self._keys.open_interest, mapping={symbol: records.dump_open_interest(now)})
        value = self._symbols.by_name[symbol].notional(self._marks.get(symbol, 0), longs)
        snapshot = change.ts - change.ts % SNAPSHOT_MS
        key = self._keys.open_interest_history(symbol)
        pipe.zremrangebyscore(key, snapshot, snapshot)
        if self._snapshots.get(symbol) != snapshot:  # a new one: trim once per snapshot
            self._snapshots[symbol] = snapshot
            pipe.zremrangebyscore(key, "-inf", f"({snapshot - self._window_ms}")
        record = records.dump_open_interest(OpenInterestView(snapshot, longs, value))
        pipe.zadd(key, {record: snapshot})
