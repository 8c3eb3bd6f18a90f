"""Orders in batches: place up to 5, cancel up to 10, one request.

Each order of a batch is its own command through the bus, so each is shed, queued, matched and
journaled exactly as a single order is; they are submitted together, and the answer lists them
in the order sent, a refused one as the error object a single order would have got (Binance
runs a batch's orders concurrently, so one refusal does not stop the others).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import APIRouter, Response

from exchange_mock.api import filters, wire
from exchange_mock.api.auth import AccountCall, Signed, SignedRoute
from exchange_mock.api.errors import UNKNOWN_MSG
from exchange_mock.api.orders import order_json, submit
from exchange_mock.api.params import Params, invalid
from exchange_mock.domain.commands import CancelOrder, Command
from exchange_mock.errors import Code, ExchangeError
from exchange_mock.formats import JsonObject
from exchange_mock.types import OrderId

router = APIRouter(tags=["trade"], route_class=SignedRoute)

MAX_PLACED = 5
MAX_CANCELLED = 10


def _json_list(params: Params, name: str, most: int) -> list[Any] | None:
    """A parameter holding a JSON array of 1 to `most` items; None when not sent. Binance
    takes the cancel lists' names in lower case too, which is how ccxt sends them."""
    raw = params.text(name) or params.text(name.lower())
    if raw is None:
        return None
    try:
        items = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise invalid(name) from None
    if not isinstance(items, list) or not 1 <= len(items) <= most:
        raise invalid(name)
    return items


def _wire_text(value: object) -> str:
    """A batch entry's value as it would arrive in a query string: clients send strings, some
    send numbers and booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _order_params(entry: object) -> Params:
    if not isinstance(entry, dict):
        raise invalid("batchOrders")
    return Params({str(name): _wire_text(value) for name, value in entry.items()})


async def _answer(call: AccountCall, command: Command | ExchangeError) -> JsonObject:
    """One slot of the reply: the order, or the error a single request would have answered."""
    if isinstance(command, ExchangeError):
        return command.body()
    try:
        orders = await submit(call.ctx, command)
    except ExchangeError as error:
        return error.body()
    if not orders:
        return ExchangeError(Code.UNKNOWN, UNKNOWN_MSG).body()
    return order_json(call.ctx, orders[0])


async def _answers(call: AccountCall, commands: Sequence[Command | ExchangeError]) -> Response:
    slots = await asyncio.gather(*(_answer(call, command) for command in commands))
    return wire.json_response(list(slots))


@router.post("/fapi/v1/batchOrders", summary="Place up to 5 orders (TRADE)")
async def place_batch(call: Signed) -> Response:
    ctx = call.ctx
    entries = _json_list(call.params, "batchOrders", MAX_PLACED)
    if entries is None:
        raise invalid("batchOrders")
    now = ctx.clock()
    commands: list[Command | ExchangeError] = []
    for entry in entries:
        try:
            params = _order_params(entry)
            commands.append(filters.place_order(params, ctx.symbols, call.account.id, now))
        except ExchangeError as error:
            commands.append(error)
    return await _answers(call, commands)


@router.delete("/fapi/v1/batchOrders", summary="Cancel up to 10 orders of a symbol (TRADE)")
async def cancel_batch(call: Signed) -> Response:
    ctx, params = call.ctx, call.params
    spec = params.symbol(ctx.symbols)
    now, account = ctx.clock(), call.account.id
    order_ids = _json_list(params, "orderIdList", MAX_CANCELLED)
    client_ids = _json_list(params, "origClientOrderIdList", MAX_CANCELLED)
    if order_ids is not None:
        if not all(isinstance(each, int) and not isinstance(each, bool) for each in order_ids):
            raise invalid("orderIdList")
        commands: list[Command | ExchangeError] = [
            CancelOrder(account, spec.symbol, OrderId(each), None, now) for each in order_ids
        ]
    elif client_ids is not None:
        commands = [CancelOrder(account, spec.symbol, None, str(each), now) for each in client_ids]
    else:
        raise ExchangeError(
            Code.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
            "Param 'origClientOrderIdList' or 'orderIdList' must be sent, but both were "
            "empty/null!",
        )
    return await _answers(call, commands)
