"""A symbol's running trade statistics, updated trade by trade: its ticker (from the first trade
on, as `/fapi/v1/ticker/24hr` answers) and its one-minute bar. Shared by the projector, which
keeps them as the read model, and the feeds, which stream them, so the two always agree. Pure.
"""

from __future__ import annotations

from dataclasses import replace

from exchange_mock.store.views import BarView, TradeView
from exchange_mock.types import Millis, Ticks

MINUTE_MS = 60_000


def minute_of(ts: Millis) -> Millis:
    return ts - ts % MINUTE_MS


def open_ticker(ticker: dict[str, int], price: Ticks, ts: Millis) -> None:
    """A contract's first price is the one it lists at (the genesis mark's index), as a real
    venue always has a last price: its ticker starts there, not from zero."""
    ticker.update(last=price, open=price, high=price, low=price, open_time=ts, close_time=ts)
    ticker.update(volume=0, quote_volume=0, count=0)


def add_to_ticker(ticker: dict[str, int], trade: TradeView) -> None:
    """Count `trade` into `ticker` (the `records.TICKER_FIELDS`; empty before any trade)."""
    if not ticker:
        ticker.update(open=trade.price, open_time=trade.time, high=trade.price, low=trade.price)
        ticker.update(volume=0, quote_volume=0, count=0)
    ticker.setdefault("first_id", trade.trade_id)
    ticker["last"] = trade.price
    ticker["last_qty"] = trade.qty
    ticker["high"] = max(ticker["high"], trade.price)
    ticker["low"] = min(ticker["low"], trade.price)
    ticker["volume"] += trade.qty
    ticker["quote_volume"] += trade.quote
    ticker["count"] += 1
    ticker["last_id"] = trade.trade_id
    ticker["close_time"] = trade.time


def add_to_bar(bar: BarView | None, trade: TradeView) -> BarView:
    """The bar of `trade`'s minute after it. A kline opens at its first trade: a new minute, or
    a bar that only carries a quiet minute's price, starts afresh at the trade's price."""
    minute = minute_of(trade.time)
    if bar is None or minute > bar.open_time or not bar.count:
        bar = BarView.flat(minute, trade.price)
    bought = 0 if trade.buyer_is_maker else trade.qty
    return replace(
        bar,
        high=max(bar.high, trade.price),
        low=min(bar.low, trade.price),
        close=trade.price,
        volume=bar.volume + trade.qty,
        quote_volume=bar.quote_volume + trade.quote,
        count=bar.count + 1,
        taker_buy_volume=bar.taker_buy_volume + bought,
        taker_buy_quote=bar.taker_buy_quote + (trade.quote if bought else 0),
    )
