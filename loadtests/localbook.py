"""A client's local order book, kept from a USDⓈ-M diff depth stream and a REST snapshot the way
Binance documents it:

1. open `<symbol>@depth[@100ms|@500ms]` and buffer its events;
2. get `GET /fapi/v1/depth` (its `lastUpdateId` is L);
3. drop buffered events with `u` < L;
4. the first event applied must have `U` <= L <= `u`, or `pu` = L: it follows the snapshot
   directly, as when the snapshot was taken at the end of an event sent before the client
   subscribed (ccxt accepts both);
5. after it, each event's `pu` must equal the previous event's `u`; when it does not, an event
   was missed: the book is invalid and starts again from 1 (a resync).

Sizes are absolute and a size of 0 deletes the level (deleting a level the book does not hold is
normal). Prices and sizes stay the wire's decimal strings read as `Decimal`, so a book compares
exactly with a REST snapshot. Each event's outcome is returned, so a caller counts gaps, resyncs
and stale events as it likes. Pure: no I/O, no clock; the caller owns the connection and asks for
the snapshot when `needs_snapshot` says so. Buffered events are bounded: past `max_buffered` the
oldest go, and a book that needed them finds the gap in step 4.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Any

DEFAULT_MAX_BUFFERED = 1_000

Levels = list[tuple[Decimal, Decimal]]
"""(price, size) levels, best first."""


class Outcome(StrEnum):
    BUFFERED = "buffered"
    """Waiting for a snapshot."""
    STALE = "stale"
    """Older than the snapshot: dropped (step 3)."""
    APPLIED = "applied"
    GAP = "gap"
    """It does not follow the book: the book is cleared and needs a fresh snapshot."""


class LocalBook:
    def __init__(self, max_buffered: int = DEFAULT_MAX_BUFFERED) -> None:
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.update_id: int | None = None
        """The snapshot's `lastUpdateId`, then each applied event's `u`; None before a
        snapshot."""
        self.synced = False
        """An event has joined the snapshot (step 4): from here on, `pu` chains."""
        self._buffer: deque[Mapping[str, Any]] = deque(maxlen=max_buffered)

    @property
    def needs_snapshot(self) -> bool:
        return self.update_id is None

    def on_event(self, event: Mapping[str, Any]) -> Outcome:
        """Take one `depthUpdate` (the payload, not a combined stream's wrapper)."""
        if self.update_id is None:
            self._buffer.append(event)
            return Outcome.BUFFERED
        first, last = int(event["U"]), int(event["u"])
        if not self.synced:
            if last < self.update_id:
                return Outcome.STALE
            if first > self.update_id and int(event["pu"]) != self.update_id:
                return self._gap(event)
        elif int(event["pu"]) != self.update_id:
            return self._gap(event)
        _apply(self.bids, event["b"])
        _apply(self.asks, event["a"])
        self.update_id, self.synced = last, True
        return Outcome.APPLIED

    def on_snapshot(self, snapshot: Mapping[str, Any]) -> list[Outcome]:
        """Take a `GET /fapi/v1/depth` answer, then the events buffered meanwhile."""
        self.bids, self.asks = {}, {}
        _apply(self.bids, snapshot["bids"])
        _apply(self.asks, snapshot["asks"])
        self.update_id, self.synced = int(snapshot["lastUpdateId"]), False
        buffered, self._buffer = list(self._buffer), deque(maxlen=self._buffer.maxlen)
        return [self.on_event(event) for event in buffered]

    def reset(self) -> None:
        """Forget the book (a resync): events are buffered until the next snapshot."""
        self.bids, self.asks = {}, {}
        self.update_id, self.synced = None, False
        self._buffer.clear()

    def _gap(self, event: Mapping[str, Any]) -> Outcome:
        """Start again, keeping the event that broke the chain: the next snapshot may need it."""
        self.reset()
        self._buffer.append(event)
        return Outcome.GAP

    def levels(self, limit: int | None = None) -> tuple[Levels, Levels]:
        """(bids, asks), best first, at most `limit` of each."""
        bids = sorted(self.bids.items(), reverse=True)[:limit]
        asks = sorted(self.asks.items())[:limit]
        return bids, asks


def parse_levels(levels: Sequence[Sequence[str]]) -> Levels:
    """A wire side (`[["price", "size"], ...]`) as `Decimal` pairs, in the order given."""
    return [(Decimal(price), Decimal(size)) for price, size in levels]


def _apply(side: dict[Decimal, Decimal], levels: Sequence[Sequence[str]]) -> None:
    for price, size in parse_levels(levels):
        if size:
            side[price] = size
        else:
            side.pop(price, None)
