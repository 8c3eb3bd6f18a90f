"""Binance's forceOrder snapshot rule: per symbol, only the latest liquidation within each 1000 ms
window is pushed, and a window without one pushes nothing.

This is what made the public liquidation feed show at most one event per symbol per second on
October 10, 2025, while hundreds of accounts a second were liquidated. The throttle keeps the
truth alongside: `truth` counts every liquidation offered, `pushed` every snapshot let out, so the
harness can show how much the public feed hides.

Windows are aligned to multiples of the interval on the liquidations' own (journal) time, and a
window is pushed when it has ended: either the clock passed its end (`due`) or a later window's
liquidation arrived for the same symbol (`offer`). A liquidation that arrives after its window was
already pushed (a late journal time) joins the next window, so no window is pushed twice and a
symbol never sees two messages inside one interval. Pure: no clock, no I/O; times come in.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from exchange_mock.types import Cash, Lots, Millis, Side, Ticks

DEFAULT_INTERVAL_MS = 1_000


@dataclass(frozen=True, slots=True)
class Liquidation:
    """One liquidation order as the public feed describes it, in the engine's integers."""

    symbol: str
    side: Side
    qty: Lots
    price: Ticks
    """The liquidation order's limit price (the bankruptcy price)."""
    filled: Lots
    cum_quote: Cash
    """Quote value of its fills, for the average price."""
    time: Millis


class ForceOrderThrottle:
    def __init__(self, interval_ms: int = DEFAULT_INTERVAL_MS) -> None:
        if interval_ms <= 0:
            raise ValueError(f"the snapshot interval must be positive, not {interval_ms}")
        self.interval_ms = interval_ms
        self.truth: Counter[str] = Counter()
        """Every liquidation offered, per symbol."""
        self.pushed: Counter[str] = Counter()
        """Every snapshot let out, per symbol."""
        self._pending: dict[str, tuple[int, Liquidation]] = {}
        """Per symbol: the open window's number and its latest liquidation so far."""
        self._last_pushed: dict[str, int] = {}
        """Per symbol: the number of the last window pushed."""

    def offer(self, liquidation: Liquidation) -> list[Liquidation]:
        """Take a liquidation; return the snapshot of the symbol's previous window if this one
        belongs to a later window (the journal has moved past the previous window's end)."""
        symbol = liquidation.symbol
        self.truth[symbol] += 1
        window = max(liquidation.time // self.interval_ms, self._last_pushed.get(symbol, -1) + 1)
        closed: list[Liquidation] = []
        pending = self._pending.get(symbol)
        if pending is not None:
            if window > pending[0]:
                closed.append(self._push(symbol))
            else:
                window = pending[0]
        self._pending[symbol] = (window, liquidation)
        return closed

    def due(self, now: Millis) -> list[Liquidation]:
        """Snapshots of every window that has ended by `now`, earliest window first."""
        ended = sorted(
            (window, symbol)
            for symbol, (window, _latest) in self._pending.items()
            if self._end(window) <= now
        )
        return [self._push(symbol) for _window, symbol in ended]

    def next_due(self) -> Millis | None:
        """When the earliest open window ends; None when no window is open."""
        if not self._pending:
            return None
        return self._end(min(window for window, _latest in self._pending.values()))

    def _end(self, window: int) -> Millis:
        return (window + 1) * self.interval_ms

    def _push(self, symbol: str) -> Liquidation:
        window, latest = self._pending.pop(symbol)
        self._last_pushed[symbol] = window
        self.pushed[symbol] += 1
        return latest
