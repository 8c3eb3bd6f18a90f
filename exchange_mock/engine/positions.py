"""Accounts and their positions: one-way mode, exact integer accounting.

A position is a signed size and a signed cost (its entry notional; entry price = cost / size).
A fill that reduces it removes the closed share of the cost, by integer floor division, and
realizes the closed notional minus that share into the wallet. The removed cost and the
realized PnL always add up to exactly the closed notional, so every trade leaves
Σ (balance − cost) unchanged and conservation can be audited to the last cash unit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from exchange_mock.engine.collateral import CollateralAsset, Holding
from exchange_mock.engine.orders import Order
from exchange_mock.types import AccountId, Cash, Lots, OrderId, Ticks

if TYPE_CHECKING:
    from exchange_mock.engine.contract import Contract


class Position:
    """What one account holds in one symbol: the position, the leverage chosen for the symbol,
    and the open orders whose margin counts against the account."""

    __slots__ = ("contract", "cost", "leverage", "max_notional", "open_notional", "orders", "qty")

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.qty: Lots = 0
        self.cost: Cash = 0
        self.leverage = contract.default_leverage
        self.max_notional: Cash = contract.default_max_notional
        self.orders: dict[OrderId, Order] = {}
        self.open_notional: Cash = 0  # of the open orders that hold margin: not reduce-only ones

    def settle(self, lots: Lots, price: Ticks) -> Cash:
        """Apply a fill of `lots` (positive bought, negative sold) at `price`; return the PnL it
        realized."""
        unit = self.contract.unit
        qty = self.qty
        realized = 0
        if qty and (qty > 0) != (lots > 0):
            held = abs(qty)
            closed = min(abs(lots), held)
            removed = self.cost * closed // held
            direction = 1 if qty > 0 else -1
            realized = direction * price * closed * unit - removed
            self.cost -= removed
            qty -= direction * closed
            lots += direction * closed
        if lots:
            qty += lots
            self.cost += price * lots * unit
        self.qty = qty
        return realized

    # The account's open orders on the symbol: each change keeps the book, this index and the
    # margin they hold in step.

    def rest(self, order: Order) -> None:
        self.contract.book.side(order.side).add(order)
        self.orders[order.id] = order
        if not order.reduce_only:
            self.open_notional += self._notional(order, order.remaining)

    def remove(self, order: Order) -> None:
        self.contract.book.side(order.side).remove(order)
        del self.orders[order.id]
        if not order.reduce_only:
            self.open_notional -= self._notional(order, order.remaining)

    def shrink(self, order: Order, lots: Lots) -> None:
        """`lots` of a resting order have filled; it keeps its place in the queue."""
        self.contract.book.side(order.side).shrink(order, lots)
        if not order.reduce_only:
            self.open_notional -= self._notional(order, lots)

    def _notional(self, order: Order, lots: Lots) -> Cash:
        assert order.price is not None, "only priced orders rest"
        return order.price * lots * self.contract.unit


class Account:
    """An account's USDT balance, its collateral holdings, and its positions by symbol."""

    __slots__ = ("balance", "collateral", "id", "positions")

    def __init__(self, account_id: AccountId) -> None:
        self.id = account_id
        self.balance: Cash = 0
        self.collateral: dict[str, Holding] = {}
        self.positions: dict[str, Position] = {}

    def position(self, contract: Contract) -> Position:
        position = self.positions.get(contract.symbol)
        if position is None:
            position = self.positions[contract.symbol] = Position(contract)
        return position

    def holding(self, asset: CollateralAsset) -> Holding:
        holding = self.collateral.get(asset.asset)
        if holding is None:
            holding = self.collateral[asset.asset] = Holding(asset)
        return holding

    def wallet(self) -> Cash:
        """The wallet balance margin is computed from: USDT plus collateral at its haircut
        value (the USDT part may be negative while collateral backs it)."""
        total = self.balance
        for holding in self.collateral.values():
            total += holding.value
        return total
