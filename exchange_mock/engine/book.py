"""One symbol's order book: resting orders in price-time priority.

Each side keeps its level keys in one ascending list, keyed by sign × price (the price for bids,
minus the price for asks), so on either side the best level is the last key: walking the book
best-first never branches on side, and emptying the best level deletes at the end. Within a
level, orders wait in an OrderedDict: first in, first out for matching, and O(1) removal for
cancels anywhere in the queue (a plain dict also removes in O(1), but finding its oldest entry
slows down after many removals from the front).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import OrderedDict
from collections.abc import Iterator

from exchange_mock.engine.orders import Order
from exchange_mock.types import Lots, OrderId, Side, Ticks


class Level:
    """The orders resting at one price, oldest first, and their total remaining size."""

    __slots__ = ("orders", "price", "qty")

    def __init__(self, price: Ticks) -> None:
        self.price = price
        self.qty: Lots = 0
        self.orders: OrderedDict[OrderId, Order] = OrderedDict()


class BookSide:
    __slots__ = ("keys", "levels", "sign")

    def __init__(self, side: Side) -> None:
        self.sign = side.sign
        self.keys: list[int] = []
        self.levels: dict[int, Level] = {}

    def add(self, order: Order) -> None:
        """Queue the order last at its price."""
        key = self._key(order)
        level = self.levels.get(key)
        if level is None:
            level = self.levels[key] = Level(self.sign * key)
            insort(self.keys, key)
        level.orders[order.id] = order
        level.qty += order.remaining

    def remove(self, order: Order) -> None:
        """Take the order out, with whatever it has left."""
        key = self._key(order)
        level = self.levels[key]
        del level.orders[order.id]
        level.qty -= order.remaining
        if not level.orders:
            del self.levels[key]
            del self.keys[bisect_left(self.keys, key)]

    def shrink(self, order: Order, lots: Lots) -> None:
        """Account for `lots` of a resting order having filled; it keeps its place."""
        self.levels[self._key(order)].qty -= lots

    def best_price(self) -> Ticks | None:
        return self.levels[self.keys[-1]].price if self.keys else None

    def crosses(self, price: Ticks) -> bool:
        """Whether an opposite order at `price` would trade against this side."""
        return bool(self.keys) and self.keys[-1] >= self.sign * price

    def crossing(self, price: Ticks | None) -> Iterator[Level]:
        """The levels, best first, that an opposite order at `price` (None: any) trades with."""
        bound = None if price is None else self.sign * price
        keys = self.keys
        for index in range(len(keys) - 1, -1, -1):
            key = keys[index]
            if bound is not None and key < bound:
                return
            yield self.levels[key]

    def depth(self, limit: int) -> list[tuple[Ticks, Lots]]:
        """(price, size) of the best `limit` levels, best first."""
        levels, keys = self.levels, self.keys
        best = keys[max(len(keys) - limit, 0) :]
        return [(levels[key].price, levels[key].qty) for key in reversed(best)]

    def size(self, price: Ticks) -> Lots:
        """What rests at `price` (0 when nothing does)."""
        level = self.levels.get(self.sign * price)
        return 0 if level is None else level.qty

    def orders(self) -> Iterator[Order]:
        """Every resting order in priority: best level first, oldest first within a level."""
        for level in self.crossing(None):
            yield from level.orders.values()

    def _key(self, order: Order) -> int:
        assert order.price is not None, "only priced orders rest"
        return self.sign * order.price


class Book:
    """Both sides of one symbol's book.

    `update_id` grows by one with every order and trade event of the symbol (not with every
    internal change), so replaying the journal arrives at the same id and a client's view of
    the book never goes backwards across a restart.
    """

    __slots__ = ("asks", "bids", "update_id")

    def __init__(self) -> None:
        self.bids = BookSide(Side.BUY)
        self.asks = BookSide(Side.SELL)
        self.update_id = 0

    def side(self, side: Side) -> BookSide:
        return self.bids if side is Side.BUY else self.asks
