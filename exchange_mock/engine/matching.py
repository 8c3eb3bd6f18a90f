"""Matching: which resting orders an incoming order trades with, and how much of each.

Planning is kept apart from applying, so that a fill-or-kill order can be refused before
anything has changed. The plan walks the opposite side best level first, oldest order first
(price-time priority), at each maker's price.

A resting reduce-only order is checked again when it is reached, against its account's position
at that moment (positions move after an order is placed): it fills only as far as it reduces
the position, and the rest of it expires, as Binance expires reduce-only orders that would
increase a position. An incoming reduce-only order needs no such check: it was admitted no
larger than the position, a fill against another account shrinks both by the same amount, and
a self-trade shrinks only the order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from exchange_mock.engine.book import BookSide
from exchange_mock.engine.orders import Order
from exchange_mock.types import AccountId, Lots


class Fill(NamedTuple):
    maker: Order
    lots: Lots
    """May be 0 when a reduce-only maker has nothing left to reduce."""
    expires: bool
    """The maker's remainder expires after this fill (reduce-only beyond the position)."""


def plan(makers: BookSide, taker: Order, position_of: Callable[[AccountId], Lots]) -> list[Fill]:
    """The fills `taker` would get from the `makers` side, in order, without changing anything.

    `position_of` gives an account's position in the symbol before this order; the plan adds
    the moves of its own earlier fills.
    """
    fills: list[Fill] = []
    need = taker.remaining
    moved: dict[AccountId, Lots] = {}
    for level in makers.crossing(taker.price):
        for maker in level.orders.values():
            lots = min(need, maker.remaining)
            expires = False
            if maker.reduce_only:
                held = position_of(maker.account) + moved.get(maker.account, 0)
                room = max(0, -maker.sign * held)
                if room < lots:
                    lots, expires = room, True
            if lots:
                moved[taker.account] = moved.get(taker.account, 0) + taker.sign * lots
                moved[maker.account] = moved.get(maker.account, 0) + maker.sign * lots
                need -= lots
            if lots or expires:
                fills.append(Fill(maker, lots, expires))
            if not need:
                return fills
    return fills
