"""How each journaled event becomes read-model writes (queued on a Redis pipeline).

The projector is the read model's only writer, so it may keep the little state it needs (the
tickers, the open orders' margin) in memory, loaded once at start. Liquidations feed the truth
counter (`p:liquidations`), which counts every one, however few the public feed shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redis.asyncio.client import Pipeline

from exchange_mock.domain import codec
from exchange_mock.domain.events import (
    AccountFunded,
    AdlQuantilesUpdated,
    BalanceChanged,
    CollateralConverted,
    CollateralDeposited,
    CollateralPriceUpdated,
    Event,
    FundFlow,
    FundingFeeCharged,
    FundingSettled,
    InsuranceFundChanged,
    LeverageChanged,
    MarkPriceUpdated,
    OrderAccepted,
    OrderSnapshot,
    OrderUpdated,
    PositionChanged,
    PositionLiquidated,
    TradeExecuted,
)
from exchange_mock.projector.history import AccountHistory, MarketHistory
from exchange_mock.projector.open_interest import OpenInterest
from exchange_mock.projector.open_orders import OpenOrders
from exchange_mock.store import records
from exchange_mock.store.keys import Keys
from exchange_mock.store.views import TradeView
from exchange_mock.symbols import SymbolTable
from exchange_mock.trade_stats import add_to_ticker, open_ticker
from exchange_mock.types import OPEN_STATUSES, AccountId


class Projection:
    def __init__(
        self,
        keys: Keys,
        symbols: SymbolTable,
        tickers: dict[str, dict[str, int]],
        open_orders: OpenOrders,
        history: MarketHistory,
        accounts: AccountHistory,
        interest: OpenInterest,
        order_retention_ms: int = 0,
    ) -> None:
        self._keys = keys
        self._retention_ms = order_retention_ms or None
        """How long a finished order's record stays; None keeps it for good."""
        self._symbols = symbols
        self._tickers = tickers
        self._open_orders = open_orders
        self._history = history
        self._accounts = accounts
        self._interest = interest

    def apply(self, pipe: Pipeline, seq: int, event: Event) -> None:
        keys = self._keys
        self._accounts.record(pipe, seq, event)
        match event:
            case AccountFunded(account=account, amount=amount, balance=balance, ts=ts):
                self._account(pipe, account, seq, ts, {"bal": records.dump_balance(balance, ts)})
                pipe.hincrby(keys.totals, "seeded", amount)
                pipe.sadd(keys.accounts, account)
            case BalanceChanged(account=account, balance=balance, fee=fee, ts=ts):
                self._account(pipe, account, seq, ts, {"bal": records.dump_balance(balance, ts)})
                if fee:
                    pipe.hincrby(keys.totals, "fees", fee)
            case FundingFeeCharged(account=account, balance=balance, ts=ts):
                self._account(pipe, account, seq, ts, {"bal": records.dump_balance(balance, ts)})
            case PositionChanged(account=account, symbol=symbol, qty=qty, cost=cost, ts=ts):
                position = records.dump_position(qty, cost, ts)
                self._account(pipe, account, seq, ts, {f"pos:{symbol}": position})
                self._interest.position(pipe, event)
            case LeverageChanged(account=account, symbol=symbol, leverage=leverage, ts=ts):
                self._account(pipe, account, seq, ts, {f"lev:{symbol}": leverage})
            case OrderAccepted(order=order) | OrderUpdated(order=order):
                self._order(pipe, seq, order)
            case FundingSettled():
                self._history.funding(pipe, event)
            case TradeExecuted():
                self._trade(pipe, event)
                self._history.trade(pipe, event)
                self._accounts.trade(pipe, event)
            case MarkPriceUpdated(
                symbol=symbol, price=price, ts=ts, index=index, funding_rate=funding
            ):
                pipe.hset(
                    keys.marks, mapping={symbol: records.dump_mark(price, ts, index, funding)}
                )
                self._interest.mark(symbol, price)
                if symbol not in self._tickers or not self._tickers[symbol]:
                    self._open_ticker(pipe, symbol, price if index is None else index, ts)
            case _:
                self._risk(pipe, seq, event)

    def flush(self, pipe: Pipeline) -> None:
        """At the end of a batch: what is written once per batch rather than per event."""
        self._history.flush(pipe)
        self._accounts.flush(pipe)
        self._interest.flush(pipe)

    def _risk(self, pipe: Pipeline, seq: int, event: Event) -> None:
        """Collateral, the insurance fund, the liquidations' truth counter and the ADL
        quantiles. (Funding's summary and margin calls change nothing read here: the feeds
        carry them.)"""
        keys = self._keys
        match event:
            case CollateralPriceUpdated(asset=asset, price=price, haircut_ppm=haircut, ts=ts):
                record = records.dump_collateral_price(price, haircut, ts)
                pipe.hset(keys.collateral, mapping={asset: record})
            case CollateralDeposited(
                account=account, asset=asset, amount=amount, balance=held, ts=ts
            ):
                self._account(pipe, account, seq, ts, {f"col:{asset}": held})
                pipe.hincrby(keys.totals, f"seeded:{asset}", amount)
                pipe.sadd(keys.accounts, account)
            case CollateralConverted(
                account=account, asset=asset, balance=held, fund_balance=kept, ts=ts
            ):
                self._account(pipe, account, seq, ts, {f"col:{asset}": held})
                pipe.hset(keys.totals, mapping={f"fund:{asset}": kept})
            case InsuranceFundChanged(amount=amount, balance=balance, reason=reason):
                pipe.hset(keys.totals, mapping={"fund": balance})
                if reason is FundFlow.SEEDED:
                    pipe.hincrby(keys.totals, "seeded", amount)
            case PositionLiquidated(
                symbol=symbol, notional=notional, cum_quote=filled, deleveraged=lots, ts=ts
            ):
                pipe.hincrby(keys.liquidations, f"{symbol}:count", 1)
                pipe.hincrby(keys.liquidations, f"{symbol}:notional", notional)
                pipe.hset(keys.liquidations, mapping={f"{symbol}:time": ts})
                if lots:
                    pipe.hincrby(keys.liquidations, f"{symbol}:adl_count", 1)
                    pipe.hincrby(keys.liquidations, f"{symbol}:adl_notional", notional - filled)
            case AdlQuantilesUpdated(symbol=symbol, quantiles=quantiles):
                # A market-wide ranking, not the account's own change: no sequence stamp, so
                # it does not count as the account's latest event in the staleness headers.
                for entry in quantiles:
                    quantile = {f"adl:{symbol}": entry.quantile}
                    pipe.hset(keys.account(entry.account), mapping=quantile)

    def _account(
        self, pipe: Pipeline, account: AccountId, seq: int, ts: int, fields: Mapping[str, Any]
    ) -> None:
        """Write `fields` of the account's hash stamped with the event's sequence and time, in
        one command: the projector's pace is what keeps reads fresh under load."""
        pipe.hset(self._keys.account(account), mapping={**fields, "seq": seq, "ut": ts})

    def _order(self, pipe: Pipeline, seq: int, order: OrderSnapshot) -> None:
        keys = self._keys
        self._accounts.order(pipe, order)
        member = f"{order.symbol}:{order.order_id}"
        expiry = None
        if order.status in OPEN_STATUSES:
            pipe.sadd(keys.open_orders(order.account), member)
        else:
            pipe.srem(keys.open_orders(order.account), member)
            expiry = self._retention_ms
        pipe.set(keys.order(order.account, order.order_id), codec.encode(order), px=expiry)
        client_order_id = keys.client_order_id(order.account, order.client_order_id)
        pipe.set(client_order_id, order.order_id, px=expiry)
        held = self._open_orders.apply(order)
        fields = {} if held is None else {f"oo:{order.symbol}": records.dump_open_notional(*held)}
        self._account(pipe, order.account, seq, order.update_time, fields)

    def _open_ticker(self, pipe: Pipeline, symbol: str, price: int, ts: int) -> None:
        """The listing: tickers and klines start at the genesis mark's index."""
        ticker = self._tickers.setdefault(symbol, {})
        open_ticker(ticker, price, ts)
        self._write_ticker(pipe, symbol, ticker)
        self._history.open(pipe, symbol, price, ts)

    def _trade(self, pipe: Pipeline, trade: TradeExecuted) -> None:
        ticker = self._tickers.setdefault(trade.symbol, {})
        quote = self._symbols.by_name[trade.symbol].notional(trade.price, trade.qty)
        add_to_ticker(ticker, TradeView.of(trade, quote))
        self._write_ticker(pipe, trade.symbol, ticker)

    def _write_ticker(self, pipe: Pipeline, symbol: str, ticker: dict[str, int]) -> None:
        pipe.hset(self._keys.ticker(symbol), items=[x for pair in ticker.items() for x in pair])
