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
    """A new mark from the oracle; every position in the symbol is checked against it.

    `index` and `funding_rate` (in units of 1e-8) ride along for the feeds and the read model;
    the engine values positions at the mark alone."""

    symbol: str
    price: Ticks
    ts: Millis
    index: Ticks | None = None
    funding_rate: int = 0


@dataclass(frozen=True, slots=True)
class UpdateCollateralPrice:
    """A new price (1e-8 USDT per unit) for a collateral asset; its holders are re-checked."""

    asset: str
    price: int
    ts: Millis


@dataclass(frozen=True, slots=True)
class DepositCollateral:
    """Seed an account with a collateral asset (amount in 1e-8 units); conserved per asset."""

    account: AccountId
    asset: str
    amount: int
    ts: Millis


@dataclass(frozen=True, slots=True)
class SeedInsuranceFund:
    """Put cash into the insurance fund; counted in the cash seeded, like FundAccount."""

    amount: Cash
    ts: Millis


@dataclass(frozen=True, slots=True)
class SettleFunding:
    """Charge the funding of the interval that ended at `funding_time`: every open position in
    the symbol pays (or receives) its notional at the mark × `rate` (1e-8 units; positive: longs
    pay shorts). An interval is settled once."""

    symbol: str
    rate: int
    funding_time: Millis
    ts: Millis


Command = (
    PlaceOrder
    | CancelOrder
    | CancelAllOrders
    | FundAccount
    | SetLeverage
    | UpdateMarkPrice
    | UpdateCollateralPrice
    | DepositCollateral
    | SeedInsuranceFund
    | SettleFunding
)
