"""An account's histories: all its orders and its fills, per symbol, from the read model.

Binance pages both by id (`orderId`, `fromId`: that one and after), by time (`startTime`,
`endTime`), or gives the newest; here each history keeps the newest `history_rows` entries per
account and symbol, for `history_window_ms`, so a search by time looks through a bounded set.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from exchange_mock.api import wire
from exchange_mock.api.auth import Signed, SignedRoute
from exchange_mock.api.params import Params, invalid
from exchange_mock.errors import Code, ExchangeError
from exchange_mock.types import ADL_CLIENT_ORDER_ID, Millis

router = APIRouter(tags=["account"], route_class=SignedRoute)

DEFAULT_LIMIT, MOST = 500, 1000
DEFAULT_INCOME_LIMIT = 100
DEFAULT_FORCED_LIMIT, MOST_FORCED = 50, 100
AUTO_CLOSE_TYPES = frozenset({"LIQUIDATION", "ADL"})
WEEK_MS = 7 * 86_400_000
"""The longest span Binance searches by time in one request."""


def _span(params: Params, oldest: Millis) -> tuple[Millis, Millis] | None:
    """The times searched, when the request gives any: under 7 days, Binance's rule."""
    start, end = params.integer("startTime"), params.integer("endTime")
    if start is None and end is None:
        return None
    if start is not None and end is not None and end - start > WEEK_MS:
        raise ExchangeError(
            Code.INVALID_TIME_INTERVAL, "The time between startTime and endTime exceeds 7 days."
        )
    first = start if start is not None else (end or 0) - WEEK_MS
    last = end if end is not None else first + WEEK_MS
    return max(first, oldest), last


@router.get("/fapi/v1/allOrders", summary="All orders of a symbol, open and finished (USER_DATA)")
async def all_orders(call: Signed) -> Response:
    ctx, params = call.ctx, call.params
    spec = params.symbol(ctx.symbols)
    limit, from_id = params.limit(DEFAULT_LIMIT, MOST), params.integer("orderId")
    oldest = ctx.clock() - ctx.settings.history_window_ms
    span = _span(params, oldest)
    wanted = None if span is not None and from_id is None else limit
    orders = await ctx.reads.order_history(call.account.id, spec.symbol, from_id, wanted)
    first, last = span if span is not None else (oldest, None)
    kept = [o for o in orders if o.time >= first and (last is None or o.time <= last)]
    return wire.json_response([wire.orders.order(spec, each) for each in kept[:limit]])


@router.get("/fapi/v1/userTrades", summary="The account's fills in a symbol (USER_DATA)")
async def user_trades(call: Signed) -> Response:
    ctx, params = call.ctx, call.params
    spec = params.symbol(ctx.symbols)
    limit, from_id, order_id = (
        params.limit(DEFAULT_LIMIT, MOST),
        params.integer("fromId"),
        params.integer("orderId"),
    )
    oldest = ctx.clock() - ctx.settings.history_window_ms
    span = _span(params, oldest)
    if from_id is not None and span is not None:
        raise ExchangeError(
            Code.OPTIONAL_PARAMS_BAD_COMBO, "Combination of optional parameters invalid."
        )
    searched = span is not None or order_id is not None
    fills = await ctx.reads.fills(
        call.account.id, spec.symbol, from_id, None if searched else limit
    )
    first, last = span if span is not None else (oldest, None)
    kept = [
        f
        for f in fills
        if f.time >= first
        and (last is None or f.time <= last)
        and (order_id is None or f.order_id == order_id)
    ]
    return wire.json_response([wire.orders.user_trade(spec, each) for each in kept[:limit]])


@router.get("/fapi/v1/income", summary="The account's income history (USER_DATA)")
async def income(call: Signed) -> Response:
    """Oldest first from `startTime` (7 days back by default), one `page` of `limit` at a
    time, of one `incomeType` and `symbol` when asked."""
    ctx, params = call.ctx, call.params
    spec = params.optional_symbol(ctx.symbols)
    kind = params.text("incomeType")
    limit = params.limit(DEFAULT_INCOME_LIMIT, MOST)
    page = params.integer("page") or 1
    if page < 1:
        raise invalid("page")
    oldest = ctx.clock() - ctx.settings.history_window_ms
    first, last = _span(params, oldest) or (max(ctx.clock() - WEEK_MS, oldest), None)
    kept = [
        each
        for each in await ctx.reads.income(call.account.id)
        if each.time >= first
        and (last is None or each.time <= last)
        and (kind is None or each.income_type == kind)
        and (spec is None or each.symbol == spec.symbol)
    ]
    rows = kept[(page - 1) * limit : page * limit]
    return wire.json_response([wire.accounts.income(each) for each in rows])


@router.get("/fapi/v1/forceOrders", summary="The account's liquidation and ADL orders (USER_DATA)")
async def force_orders(call: Signed) -> Response:
    """Newest `limit` within `startTime`..`endTime` (7 days before `endTime` by default), of
    one `autoCloseType` when asked: the venue's own record of what it closed, which is how a
    client tells a position the venue moved from a read that is simply wrong."""
    ctx, params = call.ctx, call.params
    spec = params.optional_symbol(ctx.symbols)
    close_type = params.text("autoCloseType")
    if close_type is not None and close_type not in AUTO_CLOSE_TYPES:
        raise invalid("autoCloseType")
    limit = params.limit(DEFAULT_FORCED_LIMIT, MOST_FORCED)
    oldest = ctx.clock() - ctx.settings.history_window_ms
    end = params.integer("endTime")
    start = params.integer("startTime")
    first = max(oldest, start if start is not None else (end or ctx.clock()) - WEEK_MS)
    kept = [
        each
        for each in await ctx.reads.forced_orders(call.account.id)
        if each.update_time >= first
        and (end is None or each.update_time <= end)
        and (spec is None or each.symbol == spec.symbol)
        and (
            close_type is None
            or (each.client_order_id == ADL_CLIENT_ORDER_ID) == (close_type == "ADL")
        )
    ]
    return wire.json_response(
        [wire.orders.order(ctx.symbols.by_name[each.symbol], each) for each in kept[-limit:]]
    )
