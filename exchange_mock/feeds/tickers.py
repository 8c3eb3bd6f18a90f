"""The trade-driven market streams, kept from the journal's trades, carried on from the read
model's figures when the feed starts (`trade_stats` builds both, so they agree with REST):

- `<symbol>@kline_1m`: the minute's bar every 250 ms while trades change it, once more, closed
  (`x` true), when its minute is over, and every 2 s in any case (a quiet minute's bar is flat
  at the last close);
- `<symbol>@ticker` and `<symbol>@miniTicker` every 2 s, changed or not (a client watching a
  quiet market still hears from it), from the listing on; `!ticker@arr` and `!miniTicker@arr`
  every second, with the symbols whose ticker changed since the last push.

`E` is the time of the last trade counted (a closing or quiet bar's: the end or the start of
its minute). Beats fall on wall-clock multiples of their period, as the mark streams' do.
Memory: one ticker and one bar per symbol. Pure: times come in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import orjson

from exchange_mock.feeds import payloads, streams
from exchange_mock.feeds.depth import Message
from exchange_mock.store import records
from exchange_mock.store.keys import Keys
from exchange_mock.store.views import BarView, TradeView
from exchange_mock.symbols import SymbolTable
from exchange_mock.trade_stats import MINUTE_MS, add_to_bar, add_to_ticker, minute_of, open_ticker
from exchange_mock.types import Millis, Ticks

KLINE_MS = 250
TICKER_MS = 2_000
ALL_TICKERS_MS = 1_000


@dataclass(slots=True)
class Bar:
    """The bar being streamed, with what the read model's bar does not keep."""

    bar: BarView
    first_id: int = -1
    last_id: int = -1
    time: Millis = 0
    """When its last trade happened."""
    open: bool = False
    """Changed since the feed began, and its closing push still to come."""


class TradeBoard:
    def __init__(self, keys: Keys, symbols: SymbolTable) -> None:
        self._keys = keys
        self._symbols = symbols
        self.tickers: dict[str, dict[str, int]] = {}
        self.bars: dict[str, Bar] = {}
        self._changed: dict[int, set[str]] = {KLINE_MS: set(), ALL_TICKERS_MS: set()}
        """Per period: the symbols changed since that period's stream last pushed."""
        self._beats: dict[int, int] = dict.fromkeys((KLINE_MS, TICKER_MS, ALL_TICKERS_MS), 0)

    def load(self, tickers: Mapping[str, dict[str, int]], bars: Mapping[str, BarView]) -> None:
        """Carry on from the read model's figures (closed bars are not pushed again)."""
        self.tickers.update({symbol: dict(ticker) for symbol, ticker in tickers.items()})
        self.bars.update({symbol: Bar(bar) for symbol, bar in bars.items()})

    def open(self, symbol: str, price: Ticks, ts: Millis) -> None:
        """The contract's listing price (as the projector opens its ticker), if it has none."""
        ticker = self.tickers.setdefault(symbol, {})
        if not ticker:
            open_ticker(ticker, price, ts)
        self.bars.setdefault(symbol, Bar(BarView.flat(minute_of(ts), price), time=ts))

    def add(self, symbol: str, trade: TradeView) -> list[Message]:
        """Count a trade; the bar it ends, closed, if it opens a new minute."""
        add_to_ticker(self.tickers.setdefault(symbol, {}), trade)
        messages = []
        current = self.bars.get(symbol)
        bar = add_to_bar(None if current is None else current.bar, trade)
        if current is None or bar.count == 1:  # the trade opened a bar
            if current is not None and current.open:
                messages.append(self._closed(symbol, current))
            current = self.bars[symbol] = Bar(bar, first_id=trade.trade_id)
        current.bar, current.last_id, current.time = bar, trade.trade_id, trade.time
        current.open = True
        for changed in self._changed.values():
            changed.add(symbol)
        return messages

    def due(self, now: Millis) -> list[Message]:
        """Bars whose minute is over, closed; then each stream whose beat has come."""
        messages: list[Message] = []
        for symbol, current in self.bars.items():
            if current.open and now >= current.bar.open_time + MINUTE_MS:
                messages.append(self._closed(symbol, current))
                self._changed[KLINE_MS].discard(symbol)
        if self._beat(KLINE_MS, now):
            changed = self._take(KLINE_MS)
            messages += [self._kline(symbol, self.bars[symbol], closed=False) for symbol in changed]
        if self._beat(ALL_TICKERS_MS, now):
            messages += self._tickers(self._take(ALL_TICKERS_MS), together=True)
        if self._beat(TICKER_MS, now):
            listed = sorted(symbol for symbol, ticker in self.tickers.items() if ticker)
            messages += self._tickers(listed, together=False)
            messages += self._current_klines(now)
        return messages

    def next_due(self, now: Millis) -> Millis | None:
        periods = [period for period, changed in self._changed.items() if changed]
        if self.bars or any(self.tickers.values()):
            periods.append(TICKER_MS)
        ends = [current.bar.open_time + MINUTE_MS for current in self.bars.values() if current.open]
        return min([(now // period + 1) * period for period in periods] + ends, default=None)

    def _beat(self, period: int, now: Millis) -> bool:
        """Whether `now` is past the beat `period`'s streams last pushed on (it is, now)."""
        beat = now // period
        if beat <= self._beats[period]:
            return False
        self._beats[period] = beat
        return True

    def _take(self, period: int) -> list[str]:
        changed = sorted(self._changed[period])
        self._changed[period].clear()
        return changed

    def _current_klines(self, now: Millis) -> list[Message]:
        """Each symbol's kline of the minute `now` is in, traded in or not (a quiet minute's bar
        is flat at the last close): a client watching a quiet market still hears from it."""
        minute = minute_of(now)
        messages = []
        for symbol, traded in self.bars.items():
            shown = traded
            if traded.bar.open_time < minute:
                shown = Bar(BarView.flat(minute, traded.bar.close), time=minute)
            messages.append(self._kline(symbol, shown, closed=False))
        return messages

    def _closed(self, symbol: str, current: Bar) -> Message:
        current.open = False
        return self._kline(symbol, current, closed=True)

    def _kline(self, symbol: str, current: Bar, closed: bool) -> Message:
        spec = self._symbols.by_name[symbol]
        time = current.bar.open_time + MINUTE_MS if closed else current.time
        body = payloads.kline(spec, current.bar, current.first_id, current.last_id, closed, time)
        return self._keys.feed(streams.kline(symbol)), orjson.dumps(body)

    def _tickers(self, symbols: list[str], together: bool) -> list[Message]:
        """The symbols' tickers and mini tickers: in one array each (`!ticker@arr`,
        `!miniTicker@arr`) or on each symbol's own streams."""
        if not symbols:
            return []
        full, mini = [], []
        for symbol in symbols:
            spec, ticker = self._symbols.by_name[symbol], self.tickers[symbol]
            view = records.ticker_view(symbol, ticker)
            full.append(payloads.ticker(spec, view, ticker.get("last_qty", 0)))
            mini.append(payloads.mini_ticker(spec, view))
        feed = self._keys.feed
        if together:
            return [
                (feed(streams.ALL_TICKERS), orjson.dumps(full)),
                (feed(streams.ALL_MINI_TICKERS), orjson.dumps(mini)),
            ]
        messages = []
        for symbol, each, small in zip(symbols, full, mini, strict=True):
            messages.append((feed(streams.ticker(symbol)), orjson.dumps(each)))
            messages.append((feed(streams.mini_ticker(symbol)), orjson.dumps(small)))
        return messages
