"""The latest mark of each symbol and the schedule of the mark price streams.

Binance pushes `<symbol>@markPrice` and `!markPrice@arr` every 3 seconds and their `@1s`
variants every second, whether or not the mark moved. Pushes fall on whole wall-clock seconds
(every third one for the slow streams), so every publisher, restarted or not, keeps the same
beat. What is pushed is the latest mark the feed has read from the journal, stamped with the time
the engine set it: a feed that lags the journal pushes visibly old marks. Pure: times come in.
"""

from __future__ import annotations

from dataclasses import dataclass

from exchange_mock.types import Millis, Ticks

FAST_MS = 1_000
SLOW_EVERY = 3
"""The slow streams push on every third fast beat."""


@dataclass(frozen=True, slots=True)
class Mark:
    price: Ticks
    time: Millis
    """When the engine set this mark (the journal event's time)."""
    index: Ticks | None = None
    """The index price the mark came from, when the engine publishes one."""
    funding_rate: int = 0
    """In units of 1e-8."""


class MarkBoard:
    def __init__(self) -> None:
        self.marks: dict[str, Mark] = {}
        self._last_beat: int | None = None

    def update(self, symbol: str, mark: Mark) -> None:
        self.marks[symbol] = mark

    def prices(self) -> dict[str, Ticks]:
        return {symbol: mark.price for symbol, mark in self.marks.items()}

    def due(self, now: Millis) -> list[bool]:
        """The stream variants due at `now`, as their `fast` flag: `[True]` on a plain beat,
        `[True, False]` on every third, `[]` between beats or before any mark is known. The
        first call beats at once, so clients that connect early are not kept waiting."""
        beat = now // FAST_MS
        if not self.marks or (self._last_beat is not None and beat <= self._last_beat):
            return []
        self._last_beat = beat
        return [True, False] if beat % SLOW_EVERY == 0 else [True]

    @staticmethod
    def next_due(now: Millis) -> Millis:
        return (now // FAST_MS + 1) * FAST_MS
