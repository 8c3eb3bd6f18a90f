"""What each account's open orders commit, per symbol and side, kept from the order snapshots the
journal carries.

The engine holds margin for the unfilled part of every resting order that is not reduce-only
(price × remaining size ÷ leverage): the read model needs the same sums, or `availableBalance`
would promise a new order more than the engine's margin check allows. Snapshots carry an order's
state, not the change, so the projector remembers each open order's share to subtract it when
the order fills, is cancelled or expires.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from exchange_mock.domain.events import OrderSnapshot
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import OPEN_STATUSES, AccountId, Cash, OrderId, Side


class OpenNotional(NamedTuple):
    """The notional of an account's margin-holding open orders on one symbol."""

    bid: Cash
    ask: Cash


class OpenOrders:
    def __init__(self, symbols: SymbolTable, snapshots: Iterable[OrderSnapshot] = ()) -> None:
        self._symbols = symbols
        self._held: dict[tuple[AccountId, OrderId], Cash] = {}
        """Each open order's notional, signed: positive bids, negative asks."""
        self._sums: dict[tuple[AccountId, str], OpenNotional] = {}
        for snapshot in snapshots:
            self.apply(snapshot)

    def apply(self, order: OrderSnapshot) -> OpenNotional | None:
        """Take in the order's latest snapshot; the account's new sums on its symbol, or None
        when they did not change."""
        key = (order.account, order.order_id)
        before = self._held.pop(key, 0)
        after = self._notional(order)
        if after:
            self._held[key] = after
        if after == before:
            return None
        place = (order.account, order.symbol)
        bid, ask = self._sums.get(place, OpenNotional(0, 0))
        bid += max(after, 0) - max(before, 0)
        ask += max(-after, 0) - max(-before, 0)
        sums = self._sums[place] = OpenNotional(bid, ask)
        return sums

    def _notional(self, order: OrderSnapshot) -> Cash:
        if order.status not in OPEN_STATUSES or order.reduce_only or order.price is None:
            return 0
        spec = self._symbols.by_name[order.symbol]
        notional = spec.notional(order.price, order.qty - order.executed_qty)
        return notional if order.side is Side.BUY else -notional
