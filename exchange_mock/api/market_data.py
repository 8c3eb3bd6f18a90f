"""Public market data: connectivity, exchange information, book, tickers, marks.

Parameters come from the query string only and nothing is signed; each request is at most one
read-model round trip per symbol.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import APIRouter, Request, Response

from exchange_mock.api import wire
from exchange_mock.api.context import ApiContext, Context
from exchange_mock.api.params import invalid, query_params
from exchange_mock.formats import JsonObject
from exchange_mock.symbols import SymbolSpec

router = APIRouter(tags=["market data"])

DEPTH_LIMITS = frozenset({5, 10, 20, 50, 100, 500, 1000})
DEFAULT_DEPTH_LIMIT = 500


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
