"""Static order validation: everything Binance checks from the request and the contract alone,
before an order reaches the engine.

Checks that need market state (PERCENT_PRICE against the mark, MARKET notional, margin,
reduce-only against the position) belong to the engine; refusing the rest here keeps malformed
orders off the orders stream, where every entry costs the sequencer time under a surge.
"""

from __future__ import annotations

import re
import secrets
from decimal import Decimal

from exchange_mock.api.params import Params, invalid
from exchange_mock.domain.commands import PlaceOrder
from exchange_mock.errors import Code, ExchangeError
from exchange_mock.formats import POSITION_SIDE
from exchange_mock.symbols import SymbolSpec, SymbolTable
from exchange_mock.types import AccountId, Lots, Millis, OrderType, Side, Ticks, TimeInForce

CLIENT_ORDER_ID = re.compile(r"[\.A-Z\:/a-z0-9_-]{1,36}")
ORDER_TYPES: dict[str, OrderType] = {"LIMIT": OrderType.LIMIT, "MARKET": OrderType.MARKET}
"""Order types a client may send (LIQUIDATION is the engine's own), as exchangeInfo lists them."""
RESPONSE_TYPES = frozenset({"ACK", "RESULT"})


def place_order(params: Params, symbols: SymbolTable, account: AccountId, ts: Millis) -> PlaceOrder:
    """The `PlaceOrder` a POST /fapi/v1/order asks for, or Binance's error for the first filter
    it fails."""
    spec = params.symbol(symbols)
    side = _side(params.require("side"))
    order_type = _order_type(params.require("type"))
    time_in_force: TimeInForce | None = None
    if order_type is OrderType.LIMIT:
        time_in_force = _time_in_force(params.require("timeInForce"))
    _check_position_side(params.text("positionSide"))
    _check_response_type(params.text("newOrderRespType"))
    reduce_only = params.boolean("reduceOnly", default=False)
    client_order_id = _client_order_id(params.text("newClientOrderId"))

    qty = params.require_decimal("quantity")
    lots = _lots(spec, qty, order_type)
    ticks: Ticks | None = None
    if order_type is OrderType.LIMIT:
        price = params.require_decimal("price")
        ticks = _ticks(spec, price)
        if not reduce_only and price * qty < spec.min_notional:
            raise ExchangeError(
                Code.MIN_NOTIONAL,
                f"Order's notional must be no smaller than {spec.min_notional} "
                "(unless you choose reduce only).",
            )
    return PlaceOrder(
        account=account,
        symbol=spec.symbol,
        side=side,
        type=order_type,
        qty=lots,
        price=ticks,
        time_in_force=time_in_force,
        reduce_only=reduce_only,
        client_order_id=client_order_id,
        ts=ts,
    )


def _side(value: str) -> Side:
    try:
        return Side(value)
    except ValueError:
        raise ExchangeError(Code.INVALID_SIDE, "Invalid side.") from None


def _order_type(value: str) -> OrderType:
    order_type = ORDER_TYPES.get(value)
    if order_type is None:
        raise ExchangeError(Code.INVALID_ORDER_TYPE, "Invalid orderType.")
    return order_type


def _time_in_force(value: str) -> TimeInForce:
    try:
        return TimeInForce(value)
    except ValueError:
        raise ExchangeError(Code.INVALID_TIF, "Invalid timeInForce.") from None


def _check_position_side(value: str | None) -> None:
    if value is not None and value != POSITION_SIDE:
        raise invalid("positionSide")


def _check_response_type(value: str | None) -> None:
    if value is not None and value not in RESPONSE_TYPES:
        raise invalid("newOrderRespType")


def _client_order_id(value: str | None) -> str:
    if value is None:
        return new_client_order_id()
    if not CLIENT_ORDER_ID.fullmatch(value):
        raise ExchangeError(Code.INVALID_CL_ORD_ID_LEN, "Client order id is not valid.")
    return value


def new_client_order_id() -> str:
    """22 URL-safe characters, within Binance's pattern, as the exchange assigns when the client
    sends none."""
    return secrets.token_urlsafe(16)


def _decimals(value: Decimal) -> int:
    """Decimal places as significant: "0.0100" has two."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _lots(spec: SymbolSpec, qty: Decimal, order_type: OrderType) -> Lots:
    if qty <= 0:
        raise ExchangeError(Code.QTY_LESS_THAN_ZERO, "Quantity less than or equal to zero.")
    if _decimals(qty) > spec.quantity_precision:
        raise ExchangeError(
            Code.BAD_PRECISION, "Precision is over the maximum defined for this asset."
        )
    lots = spec.lots(qty)
    if lots is None:
        raise ExchangeError(
            Code.QTY_NOT_INCREASED_BY_STEP_SIZE, "Quantity not increased by step size."
        )
    if qty < spec.min_qty:
        raise ExchangeError(Code.QTY_LESS_THAN_MIN_QTY, "Quantity less than min quantity.")
    max_qty = spec.market_max_qty if order_type is OrderType.MARKET else spec.max_qty
    if qty > max_qty:
        raise ExchangeError(Code.QTY_GREATER_THAN_MAX_QTY, "Quantity greater than max quantity.")
    return lots


def _ticks(spec: SymbolSpec, price: Decimal) -> Ticks:
    if price <= 0:
        raise ExchangeError(Code.PRICE_LESS_THAN_ZERO, "Price less than 0.")
    if _decimals(price) > spec.price_precision:
        raise ExchangeError(
            Code.BAD_PRECISION, "Precision is over the maximum defined for this asset."
        )
    ticks = spec.ticks(price)
    if ticks is None:
        raise ExchangeError(
            Code.PRICE_NOT_INCREASED_BY_TICK_SIZE, "Price not increased by tick size."
        )
    if price < spec.min_price:
        raise ExchangeError(Code.PRICE_LESS_THAN_MIN_PRICE, "Price less than min price.")
    if price > spec.max_price:
        raise ExchangeError(Code.PRICE_GREATER_THAN_MAX_PRICE, "Price greater than max price.")
    return ticks
