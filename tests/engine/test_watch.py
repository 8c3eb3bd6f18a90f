"""The watch list: positions by a threshold price, due ones found from the ends."""

from __future__ import annotations

from exchange_mock.engine.watch import PriceIndex
from exchange_mock.types import AccountId

A, B, C, D = (AccountId(n) for n in (1, 2, 3, 4))


def test_due_longs_come_highest_first_then_due_shorts_lowest_first() -> None:
    watch = PriceIndex()
    watch.put(A, 90, long=True)
    watch.put(B, 95, long=True)
    watch.put(C, 110, long=False)
    watch.put(D, 100, long=False)
    assert list(watch.due(96)) == []
    assert list(watch.due(95)) == [B]
    assert list(watch.due(100)) == [D]
    assert list(watch.due(80)) == [B, A]
    assert list(watch.due(120)) == [D, C]


def test_an_entry_moves_when_its_price_changes_and_goes_with_its_position() -> None:
    watch = PriceIndex()
    watch.put(A, 90, long=True)
    watch.put(A, 80, long=True)
    assert (list(watch.due(85)), watch.price(A)) == ([], 80)
    watch.put(A, 120, long=False)  # the account turned short
    assert list(watch.due(120)) == [A]
    assert watch.holders(long=False) == [A] and watch.holders(long=True) == []
    watch.discard(A)
    assert (list(watch.due(200)), watch.price(A)) == ([], None)
