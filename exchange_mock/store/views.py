"""Records the API reads from the projector's read model (and the engine's market data).

Every account view carries the journal sequence it reflects and the journal's head at read time,
so a client (and the harness) can see how stale each read is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from exchange_mock.domain.events import TradeExecuted
from exchange_mock.types import AccountId, Cash, Lots, Millis, Side, Ticks


@dataclass(frozen=True, slots=True)
class PositionView:
    symbol: str
    qty: Lots
    cost: Cash
    update_time: Millis


@dataclass(frozen=True, slots=True)
class AccountView:
    account: AccountId
    balance: Cash
    balance_update_time: Millis
    positions: dict[str, PositionView]
    leverage: dict[str, int]
    seq: int
    """Journal sequence of the last event applied to this account."""
    projected_seq: int
    """Journal sequence the projector has applied up to (all accounts)."""
    journal_head: int
    """Journal sequence the engine has written up to, read in the same round trip."""
    marks: dict[str, Ticks] = field(default_factory=dict)
    collateral: dict[str, int] = field(default_factory=dict)
    """Collateral held per asset, in 1e-8 units."""
    collateral_prices: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Per asset: its price (1e-8 USDT per unit) and haircut (ppm), as the engine values it."""
    adl: dict[str, int] = field(default_factory=dict)
    """Per symbol: the position's ADL quantile as the engine last ranked it (0-4)."""
    open_notional: dict[str, tuple[Cash, Cash]] = field(default_factory=dict)
    """Per symbol: the notional of the open orders that hold margin, (bids, asks)."""


@dataclass(frozen=True, slots=True)
class MarkView:
    symbol: str
    price: Ticks | None
    time: Millis
    index: Ticks | None = None
    funding_rate: int = 0
    """In units of 1e-8."""


@dataclass(frozen=True, slots=True)
class LiquidationView:
    """One symbol's truth counter: every liquidation the engine made, and the part of them
    closed by auto-deleveraging."""

    symbol: str
    count: int
    notional: Cash
    time: Millis
    adl_count: int
    adl_notional: Cash


@dataclass(frozen=True, slots=True)
class TickerView:
    symbol: str
    last_price: Ticks | None
    open_price: Ticks | None
    high_price: Ticks | None
    low_price: Ticks | None
    volume: Lots
    quote_volume: Cash
    first_trade_id: int
    last_trade_id: int
    count: int
    open_time: Millis
    close_time: Millis


@dataclass(frozen=True, slots=True)
class DepthView:
    last_update_id: int
    time: Millis
    bids: list[tuple[Ticks, Lots]]
    asks: list[tuple[Ticks, Lots]]


@dataclass(frozen=True, slots=True)
class TradeView:
    """One public trade, as the history keeps it."""

    trade_id: int
    price: Ticks
    qty: Lots
    quote: Cash
    time: Millis
    buyer_is_maker: bool
    taker_order_id: int
    """The order that took the liquidity: its fills at one price make one aggregate trade."""

    @classmethod
    def of(cls, trade: TradeExecuted, quote: Cash) -> TradeView:
        """The journal's trade as the history keeps it, `quote` its notional."""
        seller_took = trade.taker_side is Side.SELL
        return cls(
            trade.trade_id, trade.price, trade.qty, quote, trade.ts, seller_took,
            trade.taker_order_id,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class BarView:
    """One minute of trading in a symbol: the kline every longer interval is built from."""

    open_time: Millis
    open: Ticks
    high: Ticks
    low: Ticks
    close: Ticks
    volume: Lots
    quote_volume: Cash
    count: int
    taker_buy_volume: Lots
    taker_buy_quote: Cash

    @classmethod
    def flat(cls, open_time: Millis, price: Ticks) -> BarView:
        """A time without trades: Binance's bar at the last price, with no volume."""
        return cls(open_time, price, price, price, price, 0, 0, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class FillView:
    """One side of a trade, as the account that made it sees it."""

    trade_id: int
    order_id: int
    price: Ticks
    qty: Lots
    quote: Cash
    commission: Cash
    realized_pnl: Cash
    buyer: bool
    maker: bool
    time: Millis


@dataclass(frozen=True, slots=True)
class IncomeView:
    """One movement of an account's wallet, as Binance's income history names it."""

    tran_id: int
    income_type: str
    amount: Cash
    symbol: str
    time: Millis
    trade_id: int | None


@dataclass(frozen=True, slots=True)
class FundingView:
    """One settled funding interval of a symbol."""

    funding_time: Millis
    rate: int
    """In units of 1e-8."""
    mark: Ticks


@dataclass(frozen=True, slots=True)
class OpenInterestView:
    """A symbol's open interest (long lots) at a time, and its value at the mark then (in
    the history's snapshots; 0 where not kept)."""

    time: Millis
    lots: Lots
    value: Cash
