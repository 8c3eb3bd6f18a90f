"""What a batch of commands did to the books, as the journal tells the depth streams.

The feeds never see the engine's books: a batch's order and trade events name the levels it
touched, and this reads their sizes after the batch, with the best levels, into one
`BookChanged` per symbol. Every order and trade event moves the book's update id by one, so
counting them gives the ids the batch spanned: the events of consecutive batches chain without a
hole, and every id a depth snapshot can carry ends some `BookChanged`. Pure: a read of the
books after the batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from exchange_mock.domain.events import (
    BookChanged,
    Event,
    OrderAccepted,
    OrderSnapshot,
    OrderUpdated,
    TradeExecuted,
)
from exchange_mock.engine.book import BookSide
from exchange_mock.engine.contract import Contract
from exchange_mock.types import Millis, OrderType, Side, Ticks

_ORDER_EVENTS = (OrderAccepted, OrderUpdated)
BEST_LEVELS = 20
"""Best levels each change carries: Binance's largest partial book stream."""


@dataclass(slots=True)
class _Touched:
    ids: int = 0
    time: Millis = 0
    prices: dict[Side, set[Ticks]] = field(
        default_factory=lambda: {Side.BUY: set(), Side.SELL: set()}
    )


def book_changes(contracts: Mapping[str, Contract], events: Iterable[Event]) -> list[BookChanged]:
    """One `BookChanged` per symbol whose book `events` (a whole batch's, in order) touched."""
    touched: dict[str, _Touched] = {}
    for event in events:
        # isinstance with a tuple, not `match`: this runs over every event the engine journals.
        order: OrderSnapshot | None
        if isinstance(event, _ORDER_EVENTS):
            order = event.order
            symbol, time = order.symbol, order.update_time
        elif isinstance(event, TradeExecuted):
            symbol, time, order = event.symbol, event.ts, None
        else:
            continue
        entry = touched.get(symbol)
        if entry is None:
            entry = touched[symbol] = _Touched()
        entry.ids += 1
        entry.time = max(entry.time, time)
        # Only limit orders rest; a maker's level is named by its own update.
        if order is not None and order.type is OrderType.LIMIT and order.price is not None:
            entry.prices[order.side].add(order.price)
    changes = []
    for symbol, entry in touched.items():
        book = contracts[symbol].book
        changes.append(
            BookChanged(
                symbol=symbol,
                first_update_id=book.update_id - entry.ids + 1,
                update_id=book.update_id,
                bids=_sizes(book.bids, entry.prices[Side.BUY]),
                asks=_sizes(book.asks, entry.prices[Side.SELL]),
                best_bids=tuple(book.bids.depth(BEST_LEVELS)),
                best_asks=tuple(book.asks.depth(BEST_LEVELS)),
                ts=entry.time,
            )
        )
    return changes


def _sizes(side: BookSide, prices: set[Ticks]) -> tuple[tuple[Ticks, int], ...]:
    """The levels at `prices`, best first, at their sizes now."""
    ordered = sorted(prices, key=lambda price: -side.sign * price)
    return tuple((price, side.size(price)) for price in ordered)
