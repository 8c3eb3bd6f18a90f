"""The feed's state machine: journal events in, (channel, payload) messages out. Pure, so the
publisher's loop is only I/O and every feed rule is testable without Redis or a clock.

- Marks update the board; the board's beat pushes the mark price streams.
- Liquidations go through the forceOrder throttle; its snapshots go to the symbol's stream and
  to `!forceOrder@arr`.
- Book changes go to the depth board (`depth.py`): the diff and partial book streams on their
  windows, the book tickers at once.
- A command's trades go out as aggregate trades, grouped as the REST `aggTrades` groups them,
  and move the klines and tickers (`tickers.py`).
- Everything else is user data, built per command: events are grouped by the command that
  caused them (the journal's `c` field), because Binance's per-fill order updates are rebuilt
  from a command's trades and its orders' final states.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from exchange_mock.domain.events import (
    BookChanged,
    Event,
    MarkPriceUpdated,
    PositionLiquidated,
    TradeExecuted,
)
from exchange_mock.feeds import payloads, streams
from exchange_mock.feeds.depth import DepthBoard, Message
from exchange_mock.feeds.marks import Mark, MarkBoard
from exchange_mock.feeds.throttle import ForceOrderThrottle, Liquidation
from exchange_mock.feeds.tickers import TradeBoard
from exchange_mock.feeds.userdata import user_updates
from exchange_mock.formats import aggregated
from exchange_mock.settings import FUNDING_INTERVAL_MS
from exchange_mock.store.keys import Keys
from exchange_mock.store.views import TradeView
from exchange_mock.symbols import SymbolSpec, SymbolTable
from exchange_mock.types import Millis


def liquidation_of(spec: SymbolSpec, event: PositionLiquidated) -> Liquidation:
    """The journal's liquidation as the throttle's plain record. The public feed shows the
    liquidation order filled in full: what the book did not take was closed by
    auto-deleveraging at the order's (bankruptcy) price, and counts in its fills and average."""
    return Liquidation(
        symbol=event.symbol,
        side=event.side,
        qty=event.qty,
        price=event.price,
        filled=event.filled + event.deleveraged,
        cum_quote=event.cum_quote + spec.notional(event.price, event.deleveraged),
        time=event.ts,
    )


class FeedTranslator:
    def __init__(
        self,
        keys: Keys,
        symbols: SymbolTable,
        force_order_interval_ms: int,
        funding_interval_ms: int = FUNDING_INTERVAL_MS,
    ) -> None:
        self._keys = keys
        self._symbols = symbols
        self._funding_interval_ms = funding_interval_ms
        self.marks = MarkBoard()
        self.throttle = ForceOrderThrottle(force_order_interval_ms)
        self.depth = DepthBoard(keys, symbols)
        self.trades = TradeBoard(keys, symbols)
        self._group: list[Event] = []
        self._group_trades: list[tuple[str, TradeView]] = []
        self._group_id: bytes | None = None

    def apply(self, command_id: bytes, event: Event) -> list[Message]:
        """Take the next journaled event and the id of the command that caused it."""
        if isinstance(event, BookChanged):
            return self.depth.apply(event)
        messages: list[Message] = []
        if command_id != self._group_id:
            messages += self.end_group()
            self._group_id = command_id
        if isinstance(event, MarkPriceUpdated):
            mark = Mark(event.price, event.ts, event.index, event.funding_rate)
            self.marks.update(event.symbol, mark)
            listing = event.price if event.index is None else event.index
            self.trades.open(event.symbol, listing, event.ts)
            return messages
        if isinstance(event, TradeExecuted):
            spec = self._symbols.by_name[event.symbol]
            view = TradeView.of(event, spec.notional(event.price, event.qty))
            self._group_trades.append((event.symbol, view))
            messages += self.trades.add(event.symbol, view)
        elif isinstance(event, PositionLiquidated):
            liquidation = liquidation_of(self._symbols.by_name[event.symbol], event)
            messages += self._force_orders(self.throttle.offer(liquidation))
        self._group.append(event)
        return messages

    def end_group(self) -> list[Message]:
        """The user-data messages of the command whose events came last: call when the next
        command's events begin, or when the journal has nothing more for now (the engine
        journals each batch of commands atomically, so a caught-up reader has whole commands)."""
        events, self._group, self._group_id = self._group, [], None
        trades, self._group_trades = self._group_trades, []
        if not events:
            return []
        updates = user_updates(events, self._symbols, self.marks.prices())
        messages = self._agg_trades(trades)
        messages += [
            (self._keys.user_feed(account), orjson.dumps(body)) for account, body in updates
        ]
        return messages

    def due(self, now: Millis) -> list[Message]:
        """forceOrder snapshots and book windows that have ended, and the trade and mark
        streams on their beats."""
        messages = self._force_orders(self.throttle.due(now))
        messages += self.depth.due(now)
        messages += self.trades.due(now)
        variants = self.marks.due(now)
        if variants:
            messages += self._mark_prices(variants)
        return messages

    def next_due(self, now: Millis) -> Millis:
        """The next time `due` may have something to send."""
        ends = (self.throttle.next_due(), self.depth.next_due(), self.trades.next_due(now))
        return min([self.marks.next_due(now), *(end for end in ends if end is not None)])

    def _agg_trades(self, trades: list[tuple[str, TradeView]]) -> list[Message]:
        """A command's trades per symbol, aggregated as the REST `aggTrades` aggregates them."""
        views: dict[str, list[TradeView]] = {}
        for symbol, trade in trades:
            views.setdefault(symbol, []).append(trade)
        messages: list[Message] = []
        for symbol, symbol_trades in views.items():
            spec, channel = (
                self._symbols.by_name[symbol],
                self._keys.feed(streams.agg_trade(symbol)),
            )
            messages += [
                (channel, orjson.dumps(payloads.agg_trade_update(spec, group)))
                for group in aggregated(symbol_trades)
            ]
        return messages

    def _force_orders(self, snapshots: Iterable[Liquidation]) -> list[Message]:
        messages: list[Message] = []
        for liquidation in snapshots:
            spec = self._symbols.by_name[liquidation.symbol]
            body = orjson.dumps(payloads.force_order(spec, liquidation))
            messages.append((self._keys.feed(streams.force_order(spec.symbol)), body))
            messages.append((self._keys.feed(streams.ALL_FORCE_ORDERS), body))
        return messages

    def _mark_prices(self, variants: list[bool]) -> list[Message]:
        """Each symbol's update is encoded once and sent on every variant that is due."""
        updates = {
            symbol: payloads.mark_price_update(
                self._symbols.by_name[symbol], mark, self._funding_interval_ms
            )
            for symbol, mark in self.marks.marks.items()
        }
        bodies = {symbol: orjson.dumps(update) for symbol, update in updates.items()}
        everything = orjson.dumps(list(updates.values()))
        messages: list[Message] = []
        for fast in variants:
            for symbol, body in bodies.items():
                messages.append((self._keys.feed(streams.mark_price(symbol, fast)), body))
            messages.append((self._keys.feed(streams.all_mark_prices(fast)), everything))
        return messages
