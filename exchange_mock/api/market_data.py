"""Public market data: connectivity, exchange information, book, tickers, marks.

Parameters come from the query string only and nothing is signed; each request is at most one
read-model round trip per symbol.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import APIRouter, Request, Response

from exchange_mock.api import klines, wire
from exchange_mock.api.context import ApiContext, Context
from exchange_mock.api.params import invalid, query_params
from exchange_mock.errors import Code, ExchangeError
from exchange_mock.formats import JsonObject, agg_trade, aggregated
from exchange_mock.symbols import SymbolSpec

router = APIRouter(tags=["market data"])

DEPTH_LIMITS = frozenset({5, 10, 20, 50, 100, 500, 1000})
DEFAULT_DEPTH_LIMIT = 500
AGG_TRADES_SPAN_MS = 3_600_000
"""aggTrades by time: Binance answers for less than an hour at a time."""


V = TypeVar("V")


async def _each_symbol(
    request: Request,
    ctx: ApiContext,
    read: Callable[[str], Awaitable[V]],
    convert: Callable[[SymbolSpec, V], JsonObject],
) -> Response:
    """One symbol's object when the request names a symbol, every symbol's in a list when it
    does not, as Binance answers."""
    spec = query_params(request).optional_symbol(ctx.symbols)
    specs = ctx.symbols.symbols if spec is None else (spec,)
    views = await asyncio.gather(*(read(each.symbol) for each in specs))
    items = [convert(each, view) for each, view in zip(specs, views, strict=True)]
    return wire.json_response(items if spec is None else items[0])


@router.get("/fapi/v1/ping", summary="Test connectivity")
async def ping() -> Response:
    return wire.json_response({})


@router.get("/fapi/v1/time", summary="Server time")
async def server_time(ctx: Context) -> Response:
    return wire.json_response({"serverTime": ctx.clock()})


@router.get("/fapi/v1/exchangeInfo", summary="Rate limits, assets and contract filters")
async def exchange_info(ctx: Context) -> Response:
    info = wire.exchange_info.exchange_info(
        ctx.symbols, ctx.rate_limit_table.exchange_info(), ctx.clock()
    )
    return wire.json_response(info)


@router.get("/fapi/v1/depth", summary="Order book (symbol, limit)")
async def depth(request: Request, ctx: Context) -> Response:
    params = query_params(request)
    spec = params.symbol(ctx.symbols)
    limit = params.integer("limit")
    if limit is None:
        limit = DEFAULT_DEPTH_LIMIT
    elif limit not in DEPTH_LIMITS:
        raise invalid("limit")
    view = await ctx.reads.depth(spec.symbol, limit)
    return wire.json_response(wire.market_data.depth(spec, view, ctx.clock()))


@router.get("/fapi/v1/ticker/24hr", summary="24 hour rolling statistics (symbol optional)")
async def ticker_24hr(request: Request, ctx: Context) -> Response:
    return await _each_symbol(request, ctx, ctx.reads.ticker, wire.market_data.ticker_24hr)


@router.get("/fapi/v1/ticker/price", summary="Last price (symbol optional)")
@router.get("/fapi/v2/ticker/price", summary="Last price (symbol optional)")
async def ticker_price(request: Request, ctx: Context) -> Response:
    return await _each_symbol(request, ctx, ctx.reads.ticker, wire.market_data.ticker_price)


@router.get("/fapi/v1/ticker/bookTicker", summary="Best bid and ask (symbol optional)")
async def book_ticker(request: Request, ctx: Context) -> Response:
    return await _each_symbol(
        request, ctx, lambda symbol: ctx.reads.depth(symbol, 1), wire.market_data.book_ticker
    )


@router.get("/fapi/v1/premiumIndex", summary="Mark price and funding (symbol optional)")
async def premium_index(request: Request, ctx: Context) -> Response:
    now, interval = ctx.clock(), ctx.settings.funding_period_ms
    return await _each_symbol(
        request,
        ctx,
        ctx.reads.mark,
        lambda spec, view: wire.market_data.premium_index(spec, view, now, interval),
    )


@router.get("/fapi/v1/trades", summary="Recent public trades (symbol, limit)")
async def recent_trades(request: Request, ctx: Context) -> Response:
    params = query_params(request)
    spec = params.symbol(ctx.symbols)
    trades = await ctx.reads.trades(spec.symbol, None, params.limit(500, 1000))
    oldest = ctx.clock() - ctx.settings.history_window_ms
    return wire.json_response(
        [wire.market_data.trade(spec, each) for each in trades if each.time >= oldest]
    )


def _agg_span(start: int | None, end: int | None) -> tuple[int, int]:
    """The times aggTrades looks between: under an hour, either end alone an hour from it."""
    if start is None:
        last = end or 0
        first = last - AGG_TRADES_SPAN_MS + 1
    else:
        first = start
        last = start + AGG_TRADES_SPAN_MS - 1 if end is None else end
    if last - first >= AGG_TRADES_SPAN_MS:
        raise ExchangeError(
            Code.INVALID_TIME_INTERVAL, "More than 1 hours between startTime and endTime."
        )
    return first, last


@router.get("/fapi/v1/aggTrades", summary="Aggregate trades (symbol, fromId or times, limit)")
async def agg_trades(request: Request, ctx: Context) -> Response:
    """From `fromId`, or within `startTime`..`endTime` (under an hour; either alone spans an
    hour from it), or the newest; never the two ways at once, as Binance answers."""
    params = query_params(request)
    spec = params.symbol(ctx.symbols)
    limit = params.limit(500, 1000)
    from_id, start, end = (
        params.integer("fromId"),
        params.integer("startTime"),
        params.integer("endTime"),
    )
    oldest = ctx.clock() - ctx.settings.history_window_ms
    if from_id is not None and (start is not None or end is not None):
        raise ExchangeError(
            Code.OPTIONAL_PARAMS_BAD_COMBO, "Combination of optional parameters invalid."
        )
    if start is None and end is None:
        trades = await ctx.reads.trades(spec.symbol, from_id, limit)
    else:
        first, last = _agg_span(start, end)
        every = await ctx.reads.trades(spec.symbol, None, None)
        trades = [each for each in every if first <= each.time <= last]
    groups = aggregated([each for each in trades if each.time >= oldest])
    return wire.json_response([agg_trade(spec, g) for g in groups[:limit]])


@router.get("/fapi/v1/klines", summary="Klines (symbol, interval, startTime, endTime, limit)")
async def candlesticks(request: Request, ctx: Context) -> Response:
    params = query_params(request)
    spec = params.symbol(ctx.symbols)
    interval = params.require("interval")
    if interval not in klines.INTERVALS:
        raise ExchangeError(Code.INVALID_INTERVAL, "Invalid interval.")
    now = ctx.clock()
    start, end = params.integer("startTime"), params.integer("endTime")
    if start is not None and end is not None and start > end:
        raise ExchangeError(Code.START_AFTER_END, "Start time is greater than end time.")
    opens = klines.openings(interval, start, end, params.limit(500, 1500), now)
    if not opens:
        return wire.json_response([])
    oldest = now - ctx.settings.history_window_ms
    bars = await ctx.reads.bars(
        spec.symbol, max(opens[0], oldest), klines.following(interval, opens[-1]) - 1
    )
    built = klines.klines(interval, opens, bars)
    return wire.json_response([wire.market_data.kline(spec, each) for each in built])


@router.get("/fapi/v1/fundingRate", summary="Funding rate history (symbol, times, limit)")
async def funding_rate(request: Request, ctx: Context) -> Response:
    """Oldest first: `limit` from `startTime`, or the newest `limit` up to `endTime` (now)."""
    params = query_params(request)
    spec = params.optional_symbol(ctx.symbols)
    limit = params.limit(100, 1000)
    start, end = params.integer("startTime"), params.integer("endTime")
    oldest = ctx.clock() - ctx.settings.history_window_ms
    first, last = max(oldest, start or 0), end if end is not None else ctx.clock()
    specs = ctx.symbols.symbols if spec is None else (spec,)
    found = await asyncio.gather(*(ctx.reads.funding(each.symbol, first, last) for each in specs))
    rows = sorted(
        (
            (view.funding_time, each, view)
            for each, views in zip(specs, found, strict=True)
            for view in views
        ),
        key=lambda row: row[0],
    )
    picked = rows[:limit] if start is not None else rows[-limit:]
    return wire.json_response([wire.market_data.funding_rate(s, view) for _, s, view in picked])


@router.get("/fapi/v1/openInterest", summary="Open interest of a symbol")
async def open_interest(request: Request, ctx: Context) -> Response:
    spec = query_params(request).symbol(ctx.symbols)
    view = await ctx.reads.open_interest(spec.symbol)
    return wire.json_response(
        {
            "openInterest": spec.qty_str(view.lots),
            "symbol": spec.symbol,
            "time": view.time or ctx.clock(),
        }
    )


OPEN_INTEREST_PERIODS = frozenset({"5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d"})


@router.get("/futures/data/openInterestHist", summary="Open interest statistics (symbol, period)")
async def open_interest_history(request: Request, ctx: Context) -> Response:
    """The open interest at each period's opening, oldest first; before any position, none."""
    params = query_params(request)
    spec = params.symbol(ctx.symbols)
    period = params.require("period")
    if period not in OPEN_INTEREST_PERIODS:
        raise invalid("period")
    now = ctx.clock()
    start, end = params.integer("startTime"), params.integer("endTime")
    opens = klines.openings(period, start, end, params.limit(30, 500), now)
    if not opens:
        return wire.json_response([])
    oldest = now - ctx.settings.history_window_ms
    snapshots = await ctx.reads.open_interest_history(spec.symbol, max(opens[0], oldest), opens[-1])
    rows = []
    pending = iter(snapshots)
    latest, following = None, next(pending, None)
    for opened in opens:
        while following is not None and following.time <= opened:
            latest, following = following, next(pending, None)
        if latest is not None:
            rows.append(wire.market_data.open_interest_row(spec, latest, opened))
    return wire.json_response(rows)
