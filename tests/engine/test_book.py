from __future__ import annotations

from collections.abc import Callable

from exchange_mock.engine.book import Book, BookSide
from exchange_mock.engine.orders import Order
from exchange_mock.types import Side

NewOrder = Callable[..., Order]


def _ids(side: BookSide) -> list[int]:
    return [order.id for order in side.orders()]


def test_bids_are_best_first_by_highest_price_then_by_arrival(new_order: NewOrder) -> None:
    bids = BookSide(Side.BUY)
    first_at_100, at_101, second_at_100, at_99 = (
        new_order(Side.BUY, 100, 1),
        new_order(Side.BUY, 101, 1),
        new_order(Side.BUY, 100, 1),
        new_order(Side.BUY, 99, 1),
    )
    for order in (first_at_100, at_101, second_at_100, at_99):
        bids.add(order)
    assert _ids(bids) == [at_101.id, first_at_100.id, second_at_100.id, at_99.id]
    assert bids.best_price() == 101


def test_asks_are_best_first_by_lowest_price(new_order: NewOrder) -> None:
    asks = BookSide(Side.SELL)
    for price in (105, 103, 104):
        asks.add(new_order(Side.SELL, price, 1))
    assert [price for price, _ in asks.depth(10)] == [103, 104, 105]
    assert asks.best_price() == 103


def test_depth_sums_each_level_and_honours_the_limit(new_order: NewOrder) -> None:
    asks = BookSide(Side.SELL)
    for price, qty in ((10, 2), (10, 3), (11, 7), (12, 1)):
        asks.add(new_order(Side.SELL, price, qty))
    assert asks.depth(2) == [(10, 5), (11, 7)]
    assert asks.depth(100) == [(10, 5), (11, 7), (12, 1)]
    assert asks.depth(0) == []


def test_removing_from_the_middle_of_a_queue_keeps_the_others_in_order(
    new_order: NewOrder,
) -> None:
    bids = BookSide(Side.BUY)
    orders = [new_order(Side.BUY, 100, 2) for _ in range(3)]
    for order in orders:
        bids.add(order)
    bids.remove(orders[1])
    assert _ids(bids) == [orders[0].id, orders[2].id]
    assert bids.depth(1) == [(100, 4)]


def test_an_emptied_level_leaves_the_book(new_order: NewOrder) -> None:
    bids = BookSide(Side.BUY)
    lone, other = new_order(Side.BUY, 100, 1), new_order(Side.BUY, 98, 1)
    bids.add(lone)
    bids.add(other)
    bids.remove(lone)
    assert bids.depth(10) == [(98, 1)]
    assert bids.best_price() == 98
    bids.remove(other)
    assert bids.best_price() is None
    assert bids.depth(10) == []


def test_a_partly_filled_order_keeps_its_place(new_order: NewOrder) -> None:
    asks = BookSide(Side.SELL)
    first, second = new_order(Side.SELL, 50, 5), new_order(Side.SELL, 50, 5)
    asks.add(first)
    asks.add(second)
    first.fill(3, 0, 1)
    asks.shrink(first, 3)
    assert _ids(asks) == [first.id, second.id]
    assert asks.depth(1) == [(50, 7)]


def test_crosses_when_an_opposite_price_reaches_the_best_level(new_order: NewOrder) -> None:
    bids = BookSide(Side.BUY)
    assert not bids.crosses(1)
    bids.add(new_order(Side.BUY, 100, 1))
    assert bids.crosses(100)
    assert bids.crosses(90)
    assert not bids.crosses(101)
    asks = BookSide(Side.SELL)
    asks.add(new_order(Side.SELL, 100, 1))
    assert asks.crosses(100)
    assert asks.crosses(110)
    assert not asks.crosses(99)


def test_crossing_yields_the_levels_an_opposite_price_reaches(new_order: NewOrder) -> None:
    asks = BookSide(Side.SELL)
    for price in (100, 101, 102):
        asks.add(new_order(Side.SELL, price, 1))
    assert [level.price for level in asks.crossing(101)] == [100, 101]
    assert [level.price for level in asks.crossing(99)] == []
    assert [level.price for level in asks.crossing(None)] == [100, 101, 102]


def test_book_sides_by_order_side() -> None:
    book = Book()
    assert book.side(Side.BUY) is book.bids
    assert book.side(Side.SELL) is book.asks
    assert book.update_id == 0
