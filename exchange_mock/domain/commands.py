"""Commands: what the API (or a background agent) asks the engine to do.

A command carries the time the API stamped on it, so the engine never reads a clock and a replay
of the journal reproduces the same state.
"""

from __future__ import annotations

from dataclasses import dataclass

from exchange_mock.types import (
    AccountId,
    Cash,
    Lots,
    Millis,
    OrderId,
    OrderType,
    Side,
    Ticks,
    TimeInForce,
)


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    account: AccountId
    symbol: str
    side: Side
    type: OrderType
    qty: Lots
    price: Ticks | None
    time_in_force: TimeInForce | None
    reduce_only: bool
    client_order_id: str
    ts: Millis


@dataclass(frozen=True, slots=True)
class CancelOrder:
    """Cancel by the exchange's id or by the client's id (one of the two is set)."""

    account: AccountId
    symbol: str
    order_id: OrderId | None
    client_order_id: str | None
    ts: Millis


@dataclass(frozen=True, slots=True)
class CancelAllOrders:
    account: AccountId
    symbol: str
    ts: Millis


@dataclass(frozen=True, slots=True)
class FundAccount:
    """Seed cash into an account; the sum of these is what conservation is checked against."""

    account: AccountId
    amount: Cash
    ts: Millis


@dataclass(frozen=True, slots=True)
class SetLeverage:
    account: AccountId
    symbol: str
    leverage: int
    ts: Millis


@dataclass(frozen=True, slots=True)
class UpdateMarkPrice:
    symbol: str
    price: Ticks
    ts: Millis


Command = PlaceOrder | CancelOrder | CancelAllOrders | FundAccount | SetLeverage | UpdateMarkPrice
