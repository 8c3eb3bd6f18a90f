"""Events: what the engine decided, in the order it decided it.

Events carry the resulting state (order, position and balance snapshots) rather than deltas, so
the projector writes them without re-deriving anything and cannot drift from the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    TradeId,
)


@dataclass(frozen=True, slots=True)
class OrderSnapshot:
    """An order as it stands after the command that touched it."""

    order_id: OrderId
    client_order_id: str
    account: AccountId
    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce | None
    price: Ticks | None
    qty: Lots
    executed_qty: Lots
    cum_quote: Cash
    status: OrderStatus
    reduce_only: bool
    time: Millis
    update_time: Millis


@dataclass(frozen=True, slots=True)
class AccountFunded:
    account: AccountId
    amount: Cash
    balance: Cash
    ts: Millis


@dataclass(frozen=True, slots=True)
class LeverageChanged:
    account: AccountId
    symbol: str
    leverage: int
    ts: Millis


@dataclass(frozen=True, slots=True)
class OrderAccepted:
    order: OrderSnapshot


@dataclass(frozen=True, slots=True)
class OrderUpdated:
    """An order's state after fills, a cancel or an expiry."""

    order: OrderSnapshot


@dataclass(frozen=True, slots=True)
class TradeExecuted:
    symbol: str
    trade_id: TradeId
    price: Ticks
    qty: Lots
    taker_side: Side
    taker_order_id: OrderId
    maker_order_id: OrderId
    taker: AccountId
    maker: AccountId
    ts: Millis


@dataclass(frozen=True, slots=True)
class PositionChanged:
    """A position after a fill: signed size and signed entry cost (entry price = cost / size)."""

    account: AccountId
    symbol: str
    qty: Lots
    cost: Cash
    ts: Millis


@dataclass(frozen=True, slots=True)
class BalanceChanged:
    """Wallet balance after realized PnL and fees; `fee` is what went to the exchange."""

    account: AccountId
    balance: Cash
    realized_pnl: Cash
    fee: Cash
    ts: Millis


@dataclass(frozen=True, slots=True)
class MarkPriceUpdated:
    symbol: str
    price: Ticks
    ts: Millis


Event = (
    AccountFunded
    | LeverageChanged
    | OrderAccepted
    | OrderUpdated
    | TradeExecuted
    | PositionChanged
    | BalanceChanged
    | MarkPriceUpdated
)
