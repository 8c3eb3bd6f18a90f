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
        self._unwritten: dict[str, tuple[int, Lots, int]] = {}
        """Per symbol changed in this batch: (snapshot, long lots, time) to write."""
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
        self._longs[symbol] = self._longs.get(symbol, 0) + moved
        snapshot = change.ts - change.ts % SNAPSHOT_MS
        pending = self._unwritten.get(symbol)
        if pending is not None and pending[0] != snapshot:
            self._write(pipe, symbol)  # the snapshot before, as it closed
        self._unwritten[symbol] = (snapshot, self._longs[symbol], change.ts)

    def flush(self, pipe: Pipeline) -> None:
        """Write the open interest the batch changed: once per symbol and batch, not once per
        position change, so the projector's pace holds under a surge."""
        for symbol in list(self._unwritten):
            self._write(pipe, symbol)

    def _write(self, pipe: Pipeline, symbol: str) -> None:
        snapshot, longs, ts = self._unwritten.pop(symbol)
        now = OpenInterestView(ts, longs, 0)
        pipe.hset(self._keys.open_interest, mapping={symbol: records.dump_open_interest(now)})
        value = self._symbols.by_name[symbol].notional(self._marks.get(symbol, 0), longs)
        key = self._keys.open_interest_history(symbol)
        pipe.zremrangebyscore(key, snapshot, snapshot)
        if self._snapshots.get(symbol) != snapshot:  # a new one: trim once per snapshot
            self._snapshots[symbol] = snapshot
            pipe.zremrangebyscore(key, "-inf", f"({snapshot - self._window_ms}")
        record = records.dump_open_interest(OpenInterestView(snapshot, longs, value))
        pipe.zadd(key, {record: snapshot})
