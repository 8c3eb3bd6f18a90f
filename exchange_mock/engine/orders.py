"""A live order: the mutable state the engine keeps for an order while it can still trade.

Events carry frozen `OrderSnapshot`s; the engine works on this slotted, mutable twin so a fill
is a few integer updates rather than a new object per change.
"""

from __future__ import annotations

from exchange_mock.domain.events import OrderSnapshot
from exchange_mock.types import (
    AccountId,
    Cash,
    Lots,
    Millis,
    OrderId,
    OrderStatus,
    OrderType,
    Side,
    Ticks,
    TimeInForce,
)


class Order:
    __slots__ = (
        "account",
        "client_id",
        "cum_quote",
        "id",
        "price",
        "qty",
        "reduce_only",
        "remaining",
        "side",
        "sign",
        "status",
        "symbol",
        "tif",
        "time",
        "type",
        "update_time",
    )

    def __init__(
        self,
        order_id: OrderId,
        client_id: str,
        account: AccountId,
        symbol: str,
        side: Side,
        order_type: OrderType,
        tif: TimeInForce | None,
        price: Ticks | None,
        qty: Lots,
        reduce_only: bool,
        time: Millis,
    ) -> None:
        self.id = order_id
        self.client_id = client_id
        self.account = account
        self.symbol = symbol
        self.side = side
        self.sign = 1 if side is Side.BUY else -1
        self.type = order_type
        self.tif = tif
        self.price = price
        self.qty = qty
        self.reduce_only = reduce_only
        self.time = time
        self.remaining = qty
        self.cum_quote: Cash = 0
        self.status = OrderStatus.NEW
        self.update_time = time

    @classmethod
    def from_snapshot(cls, snapshot: OrderSnapshot) -> Order:
        order = cls(
            snapshot.order_id,
            snapshot.client_order_id,
            snapshot.account,
            snapshot.symbol,
            snapshot.side,
            snapshot.type,
            snapshot.time_in_force,
            snapshot.price,
            snapshot.qty,
            snapshot.reduce_only,
            snapshot.time,
        )
        order.restore(snapshot)
        return order

    def restore(self, snapshot: OrderSnapshot) -> None:
        """Take the progress a journaled snapshot records (replay)."""
        self.remaining = snapshot.qty - snapshot.executed_qty
        self.cum_quote = snapshot.cum_quote
        self.status = snapshot.status
        self.update_time = snapshot.update_time

    def fill(self, lots: Lots, notional: Cash, ts: Millis) -> None:
        self.remaining -= lots
        self.cum_quote += notional
        self.status = OrderStatus.FILLED if self.remaining == 0 else OrderStatus.PARTIALLY_FILLED
        self.update_time = ts

    def close(self, status: OrderStatus, ts: Millis) -> None:
        """End the order's life without a fill (canceled or expired)."""
        self.status = status
        self.update_time = ts

    def snapshot(self) -> OrderSnapshot:
        return OrderSnapshot(
            self.id,
            self.client_id,
            self.account,
            self.symbol,
            self.side,
            self.type,
            self.tif,
            self.price,
            self.qty,
            self.qty - self.remaining,
            self.cum_quote,
            self.status,
            self.reduce_only,
            self.time,
            self.update_time,
        )
