"""The book streams, from the journal's `BookChanged` events alone (the feeds never see the
engine's book):

- `<symbol>@depth@100ms`, `@depth` (250 ms), `@depth@500ms`: each window's changes per symbol,
  coalesced (a level's latest size wins, 0 deletes it), pushed once the window has passed. `U`
  and `u` are the first and last book update ids the window's changes spanned, and `pu` is
  `U - 1`, the id the book had before them: consecutive batches' ids chain without a hole, so a
  client whose previous `u` is not the next event's `pu` has missed one, as Binance's local book
  procedure checks. The ids are those of the REST depth snapshot.
- `<symbol>@depth<N>` (N 5, 10 or 20, at the same three speeds): the best N levels after the
  window's last change, in the diff event's shape; pushed for windows in which the book changed.
- `<symbol>@bookTicker` and `!bookTicker`: at once, whenever the best bid or ask (price or size)
  changes.

Windows are aligned on multiples of their length, opened by their first change's (journal)
time and pushed once the clock has passed their end; a change read late joins the window still
open, so a lagging feed pushes late rather than twice. Memory stays bounded: one open window
per speed and symbol, holding only the levels it touched; a slow client is the relay's
concern (it is dropped, never buffered without bound). Pure: times come in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from exchange_mock.domain.events import BookChanged
from exchange_mock.feeds import payloads, streams
from exchange_mock.store.keys import Keys
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import Lots, Millis, Ticks

Message = tuple[str, bytes]
"""A payload and the pub/sub channel it is published on."""
Top = tuple[tuple[Ticks, Lots] | None, tuple[Ticks, Lots] | None]
"""The best bid and the best ask (price, size), None for an empty side."""


@dataclass(slots=True)
class _Window:
    """One symbol's changes within one window of one speed."""

    beat: int
    """The beat (time // speed) the window opened in: it is pushed once that beat is over."""
    first: int
    last: int
    time: Millis
    best: BookChanged
    """The window's last change, whose best levels the partial books show."""
    bids: dict[Ticks, Lots] = field(default_factory=dict)
    asks: dict[Ticks, Lots] = field(default_factory=dict)

    def add(self, change: BookChanged) -> None:
        self.last, self.time, self.best = change.update_id, change.ts, change
        self.bids.update(change.bids)
        self.asks.update(change.asks)


class DepthBoard:
    def __init__(self, keys: Keys, symbols: SymbolTable) -> None:
        self._keys = keys
        self._symbols = symbols
        self._open: dict[int, dict[str, _Window]] = {speed: {} for speed in streams.DEPTH_SPEEDS}
        self._tops: dict[str, Top] = {}

    def apply(self, change: BookChanged) -> list[Message]:
        """Take a change into every speed's open window; the book tickers, if the top moved."""
        for speed, windows in self._open.items():
            window = windows.get(change.symbol)
            if window is None:
                windows[change.symbol] = window = _Window(
                    change.ts // speed, change.first_update_id, change.update_id, change.ts, change
                )
            window.add(change)
        top: Top = (
            change.best_bids[0] if change.best_bids else None,
            change.best_asks[0] if change.best_asks else None,
        )
        if self._tops.get(change.symbol) == top:
            return []
        self._tops[change.symbol] = top
        spec = self._symbols.by_name[change.symbol]
        body = orjson.dumps(payloads.book_ticker(spec, change.update_id, *top, change.ts))
        return [
            (self._keys.feed(streams.book_ticker(spec.symbol)), body),
            (self._keys.feed(streams.ALL_BOOK_TICKERS), body),
        ]

    def due(self, now: Millis) -> list[Message]:
        """The windows that have ended by `now`, as diff and partial books."""
        messages: list[Message] = []
        for speed, windows in self._open.items():
            ended = [symbol for symbol, window in windows.items() if window.beat < now // speed]
            for symbol in ended:
                messages += self._push(symbol, speed, windows.pop(symbol))
        return messages

    def next_due(self) -> Millis | None:
        """When the earliest open window ends; None with none open."""
        ends = [
            (window.beat + 1) * speed
            for speed, windows in self._open.items()
            for window in windows.values()
        ]
        return min(ends, default=None)

    def _push(self, symbol: str, speed: int, window: _Window) -> list[Message]:
        spec, feed = self._symbols.by_name[symbol], self._keys.feed
        ids = (window.first, window.last, window.time)
        bids = sorted(window.bids.items(), reverse=True)
        asks = sorted(window.asks.items())
        diff = payloads.depth_update(spec, *ids, bids, asks)
        messages = [(feed(streams.depth(symbol, speed)), orjson.dumps(diff))]
        best = window.best
        for levels in streams.PARTIAL_DEPTHS:
            partial = payloads.depth_update(
                spec, *ids, best.best_bids[:levels], best.best_asks[:levels]
            )
            messages.append((feed(streams.depth(symbol, speed, levels)), orjson.dumps(partial)))
        return messages
