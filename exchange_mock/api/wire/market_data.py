"""Market data: depth, the tickers and the premium index."""

from __future__ import annotations

from exchange_mock.api.klines import Kline
from exchange_mock.formats import (
    JsonObject,
    cash_str,
    mark_ticks,
    next_funding_time,
    price_change,
    price_or_zero,
    unit_price,
)
from exchange_mock.settings import FUNDING_INTERVAL_MS
from exchange_mock.store.views import (
    DepthView,
    FundingView,
    MarkView,
    OpenInterestView,
    TickerView,
    TradeView,
)
from exchange_mock.symbols import SymbolSpec
from exchange_mock.types import Millis

INTEREST_RATE = "0.00010000"
"""Binance's fixed interest component of funding (0.01% per 8 hours)."""


def depth(spec: SymbolSpec, view: DepthView, now: Millis) -> JsonObject:
    price, qty = spec.price_str, spec.qty_str
    return {
        "lastUpdateId": view.last_update_id,
        "E": now,
        "T": view.time,
        "bids": [[price(ticks), qty(lots)] for ticks, lots in view.bids],
        "asks": [[price(ticks), qty(lots)] for ticks, lots in view.asks],
    }


def book_ticker(spec: SymbolSpec, view: DepthView) -> JsonObject:
    """The best bid and ask; an empty side shows Binance's zeros."""
    price, qty = spec.price_str, spec.qty_str
    bid = view.bids[0] if view.bids else (0, 0)
    ask = view.asks[0] if view.asks else (0, 0)
    return {
        "symbol": spec.symbol,
        "bidPrice": price(bid[0]),
        "bidQty": qty(bid[1]),
        "askPrice": price(ask[0]),
        "askQty": qty(ask[1]),
        "time": view.time,
        "lastUpdateId": view.last_update_id,
    }


def ticker_24hr(spec: SymbolSpec, view: TickerView) -> JsonObject:
    change, percent = price_change(spec, view)
    return {
        "symbol": spec.symbol,
        "priceChange": change,
        "priceChangePercent": percent,
        "weightedAvgPrice": unit_price(spec, view.quote_volume, view.volume),
        "lastPrice": price_or_zero(spec, view.last_price),
        "openPrice": price_or_zero(spec, view.open_price),
        "highPrice": price_or_zero(spec, view.high_price),
        "lowPrice": price_or_zero(spec, view.low_price),
        "volume": spec.qty_str(view.volume),
        "quoteVolume": cash_str(view.quote_volume),
        "openTime": view.open_time,
        "closeTime": view.close_time,
        "firstId": view.first_trade_id,
        "lastId": view.last_trade_id,
        "count": view.count,
    }


def ticker_price(spec: SymbolSpec, view: TickerView) -> JsonObject:
    return {
        "symbol": spec.symbol,
        "price": price_or_zero(spec, view.last_price),
        "time": view.close_time,
    }


def premium_index(
    spec: SymbolSpec, view: MarkView, now: Millis, funding_interval_ms: int = FUNDING_INTERVAL_MS
) -> JsonObject:
    """The mark and the index it came from; the index also stands for the settlement estimate
    (for a perpetual, an estimate of the index). `lastFundingRate` is, as on Binance, the rate
    the current interval's premium comes to so far: what its settlement would charge now. The
    mark stands in for the index before the engine has published one. A dated contract pays no
    funding: its rates are 0 and its next funding time 0, as Binance shows them."""
    mark = mark_ticks(spec, view.price)
    index = spec.price_str(mark if view.index is None else view.index)
    return {
        "symbol": spec.symbol,
        "markPrice": spec.price_str(mark),
        "indexPrice": index,
        "estimatedSettlePrice": index,
        # A rate in 1e-8 units has the scale of cash, so it prints the same way.
        "lastFundingRate": cash_str(view.funding_rate),
        "interestRate": INTEREST_RATE if spec.funds else cash_str(0),
        "nextFundingTime": next_funding_time(now, funding_interval_ms) if spec.funds else 0,
        "time": view.time or now,
    }


def trade(spec: SymbolSpec, view: TradeView) -> JsonObject:
    return {
        "id": view.trade_id,
        "price": spec.price_str(view.price),
        "qty": spec.qty_str(view.qty),
        "quoteQty": cash_str(view.quote),
        "time": view.time,
        "isBuyerMaker": view.buyer_is_maker,
    }


def kline(spec: SymbolSpec, each: Kline) -> list[int | str]:
    price, qty, bar = spec.price_str, spec.qty_str, each.bar
    return [
        bar.open_time,
        price(bar.open),
        price(bar.high),
        price(bar.low),
        price(bar.close),
        qty(bar.volume),
        each.close_time,
        cash_str(bar.quote_volume),
        bar.count,
        qty(bar.taker_buy_volume),
        cash_str(bar.taker_buy_quote),
        "0",
    ]


def funding_rate(spec: SymbolSpec, view: FundingView) -> JsonObject:
    return {
        "symbol": spec.symbol,
        # A rate in 1e-8 units has the scale of cash, so it prints the same way.
        "fundingRate": cash_str(view.rate),
        "fundingTime": view.funding_time,
        "markPrice": spec.price_str(view.mark),
    }


def open_interest_row(spec: SymbolSpec, view: OpenInterestView, time: Millis) -> JsonObject:
    return {
        "symbol": spec.symbol,
        "sumOpenInterest": spec.qty_str(view.lots),
        "sumOpenInterestValue": cash_str(view.value),
        "timestamp": time,
    }
