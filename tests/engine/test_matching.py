from __future__ import annotations

from collections.abc import Callable

from exchange_mock.engine.book import BookSide
from exchange_mock.engine.matching import Fill, plan
from exchange_mock.engine.orders import Order
from exchange_mock.types import AccountId, Lots, Side

NewOrder = Callable[..., Order]


def _asks(*orders: Order) -> BookSide:
    side = BookSide(Side.SELL)
    for order in orders:
        side.add(order)
    return side


def _flat(account: AccountId) -> Lots:
    return 0


def _summary(fills: list[Fill]) -> list[tuple[int, int, bool]]:
    return [(fill.maker.id, fill.lots, fill.expires) for fill in fills]


def test_fills_go_best_price_first_then_oldest_first(new_order: NewOrder) -> None:
    late_at_100 = new_order(Side.SELL, 100, 2)
    at_101 = new_order(Side.SELL, 101, 2)
    early_at_100 = new_order(Side.SELL, 100, 2)
    makers = _asks(at_101, late_at_100, early_at_100)
    fills = plan(makers, new_order(Side.BUY, 101, 5), _flat)
    assert _summary(fills) == [
        (late_at_100.id, 2, False),
        (early_at_100.id, 2, False),
        (at_101.id, 1, False),
    ]


def test_a_limit_order_stops_at_its_price(new_order: NewOrder) -> None:
    cheap, dear = new_order(Side.SELL, 100, 1), new_order(Side.SELL, 102, 1)
    fills = plan(_asks(cheap, dear), new_order(Side.BUY, 101, 5), _flat)
    assert _summary(fills) == [(cheap.id, 1, False)]


def test_a_market_order_takes_every_level(new_order: NewOrder) -> None:
    makers = [new_order(Side.SELL, price, 1) for price in (100, 150, 900)]
    fills = plan(_asks(*makers), new_order(Side.BUY, None, 10), _flat)
    assert [fill.lots for fill in fills] == [1, 1, 1]


def test_planning_changes_nothing(new_order: NewOrder) -> None:
    maker = new_order(Side.SELL, 100, 3)
    makers = _asks(maker)
    taker = new_order(Side.BUY, 100, 2)
    plan(makers, taker, _flat)
    assert (maker.remaining, taker.remaining) == (3, 2)
    assert makers.depth(5) == [(100, 3)]


def test_a_reduce_only_maker_fills_up_to_the_position_and_expires_beyond(
    new_order: NewOrder,
) -> None:
    closing = new_order(Side.SELL, 100, 5, account=7, reduce_only=True)
    behind = new_order(Side.SELL, 100, 5, account=8)
    positions = {AccountId(7): 3}
    fills = plan(_asks(closing, behind), new_order(Side.BUY, 100, 6), positions.__getitem__)
    assert _summary(fills) == [(closing.id, 3, True), (behind.id, 3, False)]


def test_a_reduce_only_maker_without_a_position_expires_unfilled(new_order: NewOrder) -> None:
    stale = new_order(Side.SELL, 100, 5, account=7, reduce_only=True)
    fills = plan(_asks(stale), new_order(Side.BUY, 100, 2), _flat)
    assert _summary(fills) == [(stale.id, 0, True)]


def test_a_reduce_only_maker_that_would_only_add_to_a_short_expires(
    new_order: NewOrder,
) -> None:
    stale = new_order(Side.SELL, 100, 5, account=7, reduce_only=True)
    fills = plan(_asks(stale), new_order(Side.BUY, 100, 2), lambda account: -4)
    assert _summary(fills) == [(stale.id, 0, True)]


def test_reduce_only_room_counts_the_plans_own_earlier_fills(new_order: NewOrder) -> None:
    first = new_order(Side.SELL, 100, 2, account=7, reduce_only=True)
    second = new_order(Side.SELL, 101, 2, account=7, reduce_only=True)
    positions = {AccountId(7): 3}
    fills = plan(_asks(first, second), new_order(Side.BUY, 101, 4), positions.__getitem__)
    assert _summary(fills) == [(first.id, 2, False), (second.id, 1, True)]


def test_a_partial_reduce_only_fill_that_satisfies_the_taker_does_not_expire(
    new_order: NewOrder,
) -> None:
    closing = new_order(Side.SELL, 100, 5, account=7, reduce_only=True)
    fills = plan(_asks(closing), new_order(Side.BUY, 100, 2), lambda account: 3)
    assert _summary(fills) == [(closing.id, 2, False)]
