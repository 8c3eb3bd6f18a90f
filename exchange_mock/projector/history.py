"""The histories, written from the journal: each symbol's public trades and its one-minute
bars, from which every kline interval is built at read time; each account's orders and fills.

Both stay bounded: the trades to the newest `rows` per symbol (trimmed every `TRIM_EVERY`
trades, so the trim costs little per trade), the bars to the `window` (trimmed as each new
minute opens). The bar being filled is kept here, loaded once at start, like the tickers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from redis.asyncio.client import Pipeline

from exchange_mock.domain import codec
from exchange_mock.domain.events import (
    AccountFunded,
    BalanceChanged,
    Event,
    FundFlow,
    FundingFeeCharged,
    FundingSettled,
    InsuranceFundChanged,
    OrderSnapshot,
    PositionAutoDeleveraged,
    TradeExecuted,
)
from exchange_mock.store import records
from exchange_mock.store.keys import Keys
from exchange_mock.store.views import BarView, FillView, FundingView, IncomeView, TradeView
from exchange_mock.symbols import SymbolTable
from exchange_mock.trade_stats import add_to_bar, minute_of
from exchange_mock.types import (
    ADL_CLIENT_ORDER_ID,
    OPEN_STATUSES,
    PPM,
    AccountId,
    Millis,
    OrderId,
    OrderStatus,
    OrderType,
    Side,
    Ticks,
    TimeInForce,
)

TRIM_EVERY = 64
"""Entries added to a history between two trims of it."""
INCOME_PER_EVENT = 4
"""tranIds are the journal sequence times this plus the movement's number within the event."""
FUND_FLOW_INCOME = {
    FundFlow.CLEARANCE_FEE: "INSURANCE_CLEAR",
    FundFlow.DEFICIT: "INSURANCE_CLEAR",
    FundFlow.COLLATERAL: "AUTO_EXCHANGE",
}
"""Binance's income type for each movement between a liquidated account and the fund."""


@dataclass(frozen=True, slots=True)
class HistoryBounds:
    window_ms: int
    rows: int


class Appends:
    """Entries for the histories' sorted sets, gathered over a batch and sent as one ZADD per
    key (and at most one trim) when it ends: a surge's trades would otherwise cost the
    projector a round of commands each, and its pace is what keeps reads fresh.

    A key is trimmed to its newest `rows` once `TRIM_EVERY` entries were added to it since its
    last trim, counted per key, so it never holds `TRIM_EVERY` more than its bound, whatever
    ids its entries carry and however the load spreads over accounts."""

    def __init__(self, rows: int) -> None:
        self._rows = rows
        self._entries: dict[str, dict[bytes, int]] = {}
        self._added: dict[str, int] = {}
        """Per key, the entries added since it was last trimmed."""

    def add(self, key: str, member: bytes, score: int) -> None:
        self._entries.setdefault(key, {})[member] = score
        self._added[key] = self._added.get(key, 0) + 1

    def replace(self, pipe: Pipeline, key: str, old: bytes, new: bytes, score: int) -> None:
        """`new` in place of `old`, whether `old` is still to be written or already was."""
        entries = self._entries.setdefault(key, {})
        if entries.pop(old, None) is None:
            pipe.zrem(key, old)
        entries[new] = score

    def flush(self, pipe: Pipeline) -> None:
        for key, entries in self._entries.items():
            pipe.zadd(key, entries)
            if self._added[key] >= TRIM_EVERY:
                pipe.zremrangebyrank(key, 0, -self._rows - 1)
                del self._added[key]
        self._entries.clear()


class MarketHistory:
    def __init__(
        self, keys: Keys, symbols: SymbolTable, bounds: HistoryBounds, bars: dict[str, BarView]
    ) -> None:
        self._keys = keys
        self._symbols = symbols
        self._bounds = bounds
        self._bars = bars
        """Per symbol, the newest bar, which the next trade in its minute extends."""
        self._unwritten: set[str] = set()
        """Symbols whose newest bar has changed since it was last written: written once per
        batch (`flush`), not once per trade, so the projector's pace holds under a surge."""
        self._appends = Appends(bounds.rows)

    def open(self, pipe: Pipeline, symbol: str, price: Ticks, ts: Millis) -> None:
        """The listing: a first bar at the genesis price, so klines start there."""
        if symbol not in self._bars:
            self._bars[symbol] = BarView.flat(minute_of(ts), price)
            self._write_bar(pipe, symbol, opened=True)

    def flush(self, pipe: Pipeline) -> None:
        """Write the trades and the bars the batch changed."""
        self._appends.flush(pipe)
        for symbol in list(self._unwritten):
            self._write_bar(pipe, symbol, opened=False)

    def funding(self, pipe: Pipeline, settled: FundingSettled) -> None:
        key = self._keys.funding(settled.symbol)
        record = FundingView(settled.funding_time, settled.rate, settled.mark)
        pipe.zadd(key, {records.dump_funding(record): settled.funding_time})
        pipe.zremrangebyrank(key, 0, -self._bounds.rows - 1)

    def trade(self, pipe: Pipeline, trade: TradeExecuted) -> None:
        symbol, price, qty = trade.symbol, trade.price, trade.qty
        quote = self._symbols.by_name[symbol].notional(price, qty)
        record = TradeView.of(trade, quote)
        self._appends.add(self._keys.trades(symbol), records.dump_trade(record), trade.trade_id)

        bar = self._bars.get(symbol)
        opened = bar is None or minute_of(trade.ts) > bar.open_time
        if bar is not None and opened and symbol in self._unwritten:
            self._write_bar(pipe, symbol, opened=False)  # the minute before, as it closed
        bar = add_to_bar(bar, record)
        self._bars[symbol] = bar
        if opened:
            self._write_bar(pipe, symbol, opened=True)
        else:
            self._unwritten.add(symbol)

    def _write_bar(self, pipe: Pipeline, symbol: str, *, opened: bool) -> None:
        """The symbol's newest bar; a bar that opens a minute also trims the window."""
        bar, key = self._bars[symbol], self._keys.klines(symbol)
        if opened:
            pipe.zremrangebyscore(key, "-inf", f"({bar.open_time - self._bounds.window_ms}")
        pipe.zremrangebyscore(key, bar.open_time, bar.open_time)
        pipe.zadd(key, {records.dump_bar(bar): bar.open_time})
        self._unwritten.discard(symbol)


class AccountHistory:
    """Each account's order ids and fills per symbol, and its income, each trimmed to its
    newest `rows` (see `Appends`).

    A fill's commission is the fee the engine charged it (its notional at the maker's or the
    taker's rate). Realized PnL the engine reports per account and command (BalanceChanged,
    after the command's fills, at their time), so it is written on the account's last fill of
    that command: summed over fills, it is exactly what the wallet received."""

    def __init__(self, keys: Keys, symbols: SymbolTable, bounds: HistoryBounds) -> None:
        self._keys = keys
        self._symbols = symbols
        self._bounds = bounds
        self._last_fill: dict[AccountId, tuple[str, FillView]] = {}
        self._appends = Appends(bounds.rows)
        self._liquidating: dict[str, Side] = {}
        """Per symbol, the side of the latest liquidation order, which auto-deleveraging
        closes the opposite positions against."""

    def order(self, pipe: Pipeline, order: OrderSnapshot) -> None:
        if order.type is OrderType.LIQUIDATION:
            self._liquidating[order.symbol] = order.side
            if order.status not in OPEN_STATUSES:
                self._forced(pipe, order)
        key = self._keys.order_log(order.account, order.symbol)
        self._appends.add(key, str(order.order_id).encode(), order.order_id)

    def flush(self, pipe: Pipeline) -> None:
        """Write what the batch added."""
        self._appends.flush(pipe)

    def trade(self, pipe: Pipeline, trade: TradeExecuted) -> None:
        spec = self._symbols.by_name[trade.symbol]
        quote = spec.notional(trade.price, trade.qty)
        taker_bought = trade.taker_side is Side.BUY
        sides = (
            (trade.taker, trade.taker_order_id, taker_bought, False, spec.taker_fee_ppm),
            (trade.maker, trade.maker_order_id, not taker_bought, True, spec.maker_fee_ppm),
        )
        for account, order_id, buyer, maker, fee_ppm in sides:
            fill = FillView(
                trade.trade_id, order_id, trade.price, trade.qty, quote,
                quote * fee_ppm // PPM, 0, buyer, maker, trade.ts,
            )  # fmt: skip
            key = self._keys.fills(account, trade.symbol)
            self._appends.add(key, records.dump_fill(fill), trade.trade_id)
            self._last_fill[account] = (trade.symbol, fill)

    def _deleveraged(self, pipe: Pipeline, seq: int, event: PositionAutoDeleveraged) -> None:
        """An auto-deleveraging as Binance lists it: a filled `adl_autoclose` order, closing
        the account's position against the liquidation's side. It has no order id of its own
        in the engine; the journal sequence stands in for one."""
        liquidation = self._liquidating.get(event.symbol, Side.SELL)
        spec = self._symbols.by_name[event.symbol]
        adl = OrderSnapshot(
            order_id=OrderId(seq),
            client_order_id=ADL_CLIENT_ORDER_ID,
            account=event.account,
            symbol=event.symbol,
            side=liquidation.opposite,
            type=OrderType.LIQUIDATION,
            time_in_force=TimeInForce.IOC,
            price=event.price,
            qty=event.qty,
            executed_qty=event.qty,
            cum_quote=spec.notional(event.price, event.qty),
            status=OrderStatus.FILLED,
            reduce_only=True,
            time=event.ts,
            update_time=event.ts,
        )
        self._forced(pipe, adl)

    def _forced(self, pipe: Pipeline, order: OrderSnapshot) -> None:
        key = self._keys.forced(order.account)
        pipe.zadd(key, {codec.encode(order): order.update_time})
        pipe.zremrangebyrank(key, 0, -self._bounds.rows - 1)

    def record(self, pipe: Pipeline, seq: int, event: Event) -> None:
        """The wallet movements an event makes (the account's income history) and the
        auto-deleveragings (its forced orders)."""
        match event:
            case AccountFunded(account=account, amount=amount, ts=ts):
                self._income(
                    pipe,
                    account,
                    IncomeView(seq * INCOME_PER_EVENT, "TRANSFER", amount, "", ts, None),
                )
            case BalanceChanged():
                self._balance(pipe, seq, event)
            case PositionAutoDeleveraged():
                self._deleveraged(pipe, seq, event)
            case FundingFeeCharged(account=account, symbol=symbol, amount=amount, ts=ts):
                funding = IncomeView(
                    seq * INCOME_PER_EVENT, "FUNDING_FEE", amount, symbol, ts, None
                )
                self._income(pipe, account, funding)
            case InsuranceFundChanged(account=int() as account, amount=amount, reason=reason):
                kind = FUND_FLOW_INCOME.get(reason)
                if kind is not None and amount:
                    flow = IncomeView(seq * INCOME_PER_EVENT, kind, -amount, "", event.ts, None)
                    self._income(pipe, AccountId(account), flow)

    def _income(self, pipe: Pipeline, account: AccountId, income: IncomeView) -> None:
        self._appends.add(self._keys.income(account), records.dump_income(income), income.tran_id)

    def _balance(self, pipe: Pipeline, seq: int, change: BalanceChanged) -> None:
        """The command's fee and realized PnL, on the account's last fill of the command."""
        last = self._last_fill.pop(change.account, None)
        if last is not None and last[1].time != change.ts:
            last = None  # not this command's fills (an auto-deleveraging, which has none)
        symbol, trade_id = ("", None) if last is None else (last[0], last[1].trade_id)
        account, ts = change.account, change.ts
        if change.realized_pnl:
            pnl = IncomeView(
                seq * INCOME_PER_EVENT, "REALIZED_PNL", change.realized_pnl, symbol, ts, trade_id
            )
            self._income(pipe, account, pnl)
        if change.fee:
            fee = IncomeView(
                seq * INCOME_PER_EVENT + 1, "COMMISSION", -change.fee, symbol, ts, trade_id
            )
            self._income(pipe, account, fee)
        if last is None or not change.realized_pnl:
            return
        symbol, fill = last
        key = self._keys.fills(change.account, symbol)
        realized = replace(fill, realized_pnl=change.realized_pnl)
        old, new = records.dump_fill(fill), records.dump_fill(realized)
        self._appends.replace(pipe, key, old, new, fill.trade_id)
