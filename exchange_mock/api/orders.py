"""Trading: place, cancel and query orders, and set leverage.

Writes go through the command bus to the engine and wait for its reply; reads of an order come
from the read model, so a query right after a place may not see it yet, exactly as the design's
staleness measurement expects.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from exchange_mock.api import filters, wire
from exchange_mock.api.auth import AccountCall, Signed, SignedRoute
from exchange_mock.api.context import ApiContext
from exchange_mock.api.errors import UNKNOWN_MSG
from exchange_mock.api.params import Params
from exchange_mock.domain.commands import CancelAllOrders, CancelOrder, Command, SetLeverage
from exchange_mock.domain.events import OrderSnapshot
from exchange_mock.domain.replies import Rejected
from exchange_mock.errors import Code, ExchangeError
from exchange_mock.formats import JsonObject
from exchange_mock.risk import max_leverage
from exchange_mock.types import OrderId

router = APIRouter(tags=["trade"], route_class=SignedRoute)

CANCEL_ALL_DONE = {"code": 200, "msg": "The operation of cancel all open order is done."}
"""Binance's answer to a successful cancel-all: a `code` of 200 in an HTTP 200 body."""


async def submit(ctx: ApiContext, command: Command) -> tuple[OrderSnapshot, ...]:
    """The orders the command touched; the engine's refusal as the client's error. The bus's
    -1007 timeout propagates untouched: the command may still execute."""
    reply = await ctx.bus.submit(command)
    if isinstance(reply, Rejected):
        raise ExchangeError(Code(reply.code), reply.msg)
    return reply.orders


def _order_response(ctx: ApiContext, orders: tuple[OrderSnapshot, ...]) -> Response:
    if not orders:
        raise ExchangeError(Code.UNKNOWN, UNKNOWN_MSG, http_status=500)
    return wire.json_response(order_json(ctx, orders[0]))


def order_json(ctx: ApiContext, snapshot: OrderSnapshot) -> JsonObject:
    return wire.orders.order(ctx.symbols.by_name[snapshot.symbol], snapshot)


def _order_ref(params: Params) -> tuple[OrderId | None, str | None]:
    order_id = params.integer("orderId")
    client_order_id = params.text("origClientOrderId")
    if order_id is None and client_order_id is None:
        raise ExchangeError(
            Code.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
            "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
        )
    return (None if order_id is None else OrderId(order_id)), client_order_id


@router.post("/fapi/v1/order", summary="New order (TRADE)")
async def new_order(call: Signed) -> Response:
    """ACK and RESULT both answer with the full order, as the engine replies with it anyway."""
    ctx = call.ctx
    command = filters.place_order(call.params, ctx.symbols, call.account.id, ctx.clock())
    return _order_response(ctx, await submit(ctx, command))


@router.delete("/fapi/v1/order", summary="Cancel order by orderId or origClientOrderId (TRADE)")
async def cancel_order(call: Signed) -> Response:
    ctx, params = call.ctx, call.params
    spec = params.symbol(ctx.symbols)
    order_id, client_order_id = _order_ref(params)
    command = CancelOrder(call.account.id, spec.symbol, order_id, client_order_id, ctx.clock())
    return _order_response(ctx, await submit(ctx, command))


@router.get("/fapi/v1/order", summary="Query order, from the read model (USER_DATA)")
async def query_order(call: Signed) -> Response:
    ctx, params = call.ctx, call.params
    spec = params.symbol(ctx.symbols)
    order_id, client_order_id = _order_ref(params)
    snapshot = await ctx.reads.order(call.account.id, order_id, client_order_id)
    if snapshot is None or snapshot.symbol != spec.symbol:
        raise ExchangeError(Code.NO_SUCH_ORDER, "Order does not exist.")
    return wire.json_response(wire.orders.order(spec, snapshot))


@router.get("/fapi/v1/openOrders", summary="Open orders, one symbol or all (USER_DATA)")
async def open_orders(call: Signed) -> Response:
    ctx = call.ctx
    spec = call.params.optional_symbol(ctx.symbols)
    symbol = None if spec is None else spec.symbol
    snapshots = await ctx.reads.open_orders(call.account.id, symbol)
    return wire.json_response([order_json(ctx, snapshot) for snapshot in snapshots])


@router.delete("/fapi/v1/allOpenOrders", summary="Cancel every open order of a symbol (TRADE)")
async def cancel_all_orders(call: Signed) -> Response:
    ctx = call.ctx
    spec = call.params.symbol(ctx.symbols)
    await submit(ctx, CancelAllOrders(call.account.id, spec.symbol, ctx.clock()))
    return wire.json_response(CANCEL_ALL_DONE)


@router.post("/fapi/v1/leverage", summary="Change initial leverage of a symbol (TRADE)")
async def change_leverage(call: Signed) -> Response:
    ctx = call.ctx
    command = _set_leverage(call)
    await submit(ctx, command)
    spec = ctx.symbols.by_name[command.symbol]
    return wire.json_response(
        {
            "leverage": command.leverage,
            "maxNotionalValue": wire.positions.max_notional(spec, command.leverage),
            "symbol": command.symbol,
        }
    )


def _set_leverage(call: AccountCall) -> SetLeverage:
    """Leverage from 1 to the first bracket's maximum; the engine refuses a leverage the open
    position is too large for."""
    ctx, params = call.ctx, call.params
    spec = params.symbol(ctx.symbols)
    leverage = params.require_integer("leverage")
    if not 1 <= leverage <= max_leverage(spec):
        raise ExchangeError(Code.INVALID_LEVERAGE, f"Leverage {leverage} is not valid")
    return SetLeverage(call.account.id, spec.symbol, leverage, ctx.clock())
