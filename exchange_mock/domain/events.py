"""Events: what the engine decided, in the order it decided it.

Events carry the resulting state (order, position and balance snapshots) rather than deltas, so
the projector writes them without re-deriving anything and cannot drift from the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

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
    """The symbol's new mark, with the index and funding rate (1e-8 units) it came from."""

    symbol: str
    price: Ticks
    ts: Millis
    index: Ticks | None = None
    funding_rate: int = 0


@dataclass(frozen=True, slots=True)
class CollateralPriceUpdated:
    """A collateral asset's new price (1e-8 USDT per unit) and the haircut its holders' margin
    takes off it (ppm)."""

    asset: str
    price: int
    haircut_ppm: int
    ts: Millis


@dataclass(frozen=True, slots=True)
class CollateralDeposited:
    """Collateral seeded into an account (1e-8 units); `balance` is its holding after."""

    account: AccountId
    asset: str
    amount: int
    balance: int
    ts: Millis


@dataclass(frozen=True, slots=True)
class CollateralConverted:
    """After a liquidation left the account's USDT balance negative, the insurance fund took
    `amount` of its collateral and paid `value` (its haircut value) in cash for it. `balance`
    and `fund_balance` are the account's and the fund's holdings of the asset after."""

    account: AccountId
    asset: str
    amount: int
    value: Cash
    balance: int
    fund_balance: int
    ts: Millis


class FundFlow(StrEnum):
    """Why the insurance fund's cash moved."""

    SEEDED = "SEEDED"
    CLEARANCE_FEE = "CLEARANCE_FEE"
    """Taken from a liquidated account's remaining margin."""
    COLLATERAL = "COLLATERAL"
    """Paid for collateral taken from a liquidated account (see CollateralConverted)."""
    DEFICIT = "DEFICIT"
    """A liquidated account's negative balance, covered by the fund."""
    FUNDING = "FUNDING"
    """What funding's rounding left over: payers are rounded up, receivers down."""


@dataclass(frozen=True, slots=True)
class InsuranceFundChanged:
    """The fund's cash moved by `amount` (signed, into the fund positive) to `balance`; the
    account on the other side (None for seeding) has a BalanceChanged of its own."""

    amount: Cash
    balance: Cash
    reason: FundFlow
    account: AccountId | None
    ts: Millis


@dataclass(frozen=True, slots=True)
class PositionLiquidated:
    """The engine closed a position whose account fell to its maintenance margin at `mark`.

    `qty` lots were closed by an IOC LIQUIDATION order (client id `autoclose-…`) at `side`;
    `price` is the bankruptcy price the order was sent at. `filled` of them traded in the book
    for `cum_quote` (the fund covering any price worse than bankruptcy), the `deleveraged` rest
    against opposite positions at `price`. `notional` is what the truth counter adds."""

    account: AccountId
    symbol: str
    side: Side
    qty: Lots
    price: Ticks
    filled: Lots
    cum_quote: Cash
    deleveraged: Lots
    notional: Cash
    mark: Ticks
    ts: Millis


@dataclass(frozen=True, slots=True)
class PositionAutoDeleveraged:
    """`qty` lots of `account`'s position were closed at `price` against the liquidation of
    `liquidated`, the fund being unable to cover a worse price; its PositionChanged and
    BalanceChanged follow."""

    account: AccountId
    symbol: str
    qty: Lots
    price: Ticks
    liquidated: AccountId
    ts: Millis


@dataclass(frozen=True, slots=True)
class FundingSettled:
    """The symbol's funding for the interval ending at `funding_time` was charged at `rate`
    (1e-8 units) on the notional at `mark`; each account's FundingFeeCharged follows, then the
    fund's share of the rounding (InsuranceFundChanged, FUNDING) if any."""

    symbol: str
    rate: int
    mark: Ticks
    funding_time: Millis
    ts: Millis


@dataclass(frozen=True, slots=True)
class FundingFeeCharged:
    """`amount` of funding moved into the account's USDT balance (negative: it paid), leaving
    `balance`."""

    account: AccountId
    symbol: str
    amount: Cash
    balance: Cash
    ts: Millis


@dataclass(frozen=True, slots=True)
class MarginCallPosition:
    """One open position of an account under a margin call, valued at its mark."""

    symbol: str
    qty: Lots
    mark: Ticks
    unrealized_pnl: Cash
    maintenance_margin: Cash


@dataclass(frozen=True, slots=True)
class MarginCallIssued:
    """The account's margin ratio (maintenance margin ÷ equity) reached the margin-call level;
    `wallet` is its cross wallet (USDT and collateral at its haircut value). Issued once per
    crossing: not again until a MarginCallLifted."""

    account: AccountId
    wallet: Cash
    positions: tuple[MarginCallPosition, ...]
    ts: Millis


@dataclass(frozen=True, slots=True)
class MarginCallLifted:
    """The account's margin ratio is back under the margin-call level (or it holds nothing)."""

    account: AccountId
    ts: Millis


@dataclass(frozen=True, slots=True)
class AdlQuantile:
    account: AccountId
    quantile: int


@dataclass(frozen=True, slots=True)
class AdlQuantilesUpdated:
    """The symbol's ADL quantiles (0-4, 4 first in the queue) that changed since the last
    refresh; 0 also for a position that is gone."""

    symbol: str
    quantiles: tuple[AdlQuantile, ...]
    ts: Millis


@dataclass(frozen=True, slots=True)
class BookChanged:
    """What one batch of commands did to a symbol's book, journaled after the batch's own
    events: the levels it touched at their new sizes (0: gone), best first, and the best levels
    after it. `first_update_id`..`update_id` are the book's update ids the batch spanned, the
    ids the depth snapshot carries, so the depth streams and that snapshot join as Binance's
    documented local book procedure expects."""

    symbol: str
    first_update_id: int
    update_id: int
    bids: tuple[tuple[Ticks, Lots], ...]
    asks: tuple[tuple[Ticks, Lots], ...]
    best_bids: tuple[tuple[Ticks, Lots], ...]
    best_asks: tuple[tuple[Ticks, Lots], ...]
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
    | CollateralPriceUpdated
    | CollateralDeposited
    | CollateralConverted
    | InsuranceFundChanged
    | PositionLiquidated
    | PositionAutoDeleveraged
    | FundingSettled
    | FundingFeeCharged
    | MarginCallIssued
    | MarginCallLifted
    | AdlQuantilesUpdated
    | BookChanged
)
