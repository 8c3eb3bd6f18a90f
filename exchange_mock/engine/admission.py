"""Whether a new order may enter the book: the rules that need the engine's state (position,
book, mark, margin), with Binance's codes and messages.

Static filters (tick, step, size bounds, a LIMIT order's minimum notional) are checked at the
API edge; the engine re-checks only what would otherwise corrupt its arithmetic.
Fill-or-kill needs a matching plan, so the engine checks it after planning.
"""

from __future__ import annotations

from exchange_mock.domain.commands import PlaceOrder
from exchange_mock.domain.replies import Rejected
from exchange_mock.engine.book import BookSide
from exchange_mock.engine.contract import Contract
from exchange_mock.engine.margin import available
from exchange_mock.engine.positions import Account, Position
from exchange_mock.errors import Code
from exchange_mock.risk import initial_margin
from exchange_mock.types import PPM, OrderType, Ticks, TimeInForce

RESTING = frozenset({TimeInForce.GTC, TimeInForce.GTX})
"""Times in force that leave a LIMIT order's unfilled part in the book."""

FOK_REJECTED = Rejected(
    Code.FOK_ORDER_REJECT,
    "Due to the order could not be filled immediately, the FOK order has been rejected. "
    "The order will not be recorded in the order history",
)
_GTX_REJECTED = Rejected(
    Code.GTX_ORDER_REJECT,
    "Due to the order could not be executed as maker, the Post Only order will be rejected. "
    "The order will not be recorded in the order history",
)
_REDUCE_ONLY = Rejected(Code.REDUCE_ONLY_REJECT, "ReduceOnly Order is rejected.")
_MAX_OPEN = Rejected(Code.MAX_OPEN_ORDERS, "Reach max open order limit.")
MAX_POSITION_REJECTED = Rejected(
    Code.MAX_POSITION_AT_LEVERAGE, "Exceeded the maximum allowable position at current leverage."
)
_MARGIN = Rejected(Code.MARGIN_NOT_SUFFICIENT, "Margin is insufficient.")
_DUPLICATE_CLIENT_ID = Rejected(Code.DUPLICATED_CLIENT_ORDER_ID, "ClientOrderId is duplicated.")


def admit(
    order: PlaceOrder, contract: Contract, account: Account, position: Position, makers: BookSide
) -> Rejected | None:
    """The first rule `order` breaks, or None; `makers` is the side it would trade against."""
    malformed = _malformed(order)
    if malformed is not None:
        return malformed
    if order.client_order_id and any(
        open_order.client_id == order.client_order_id for open_order in position.orders.values()
    ):
        # Here, not at the API: one sequencer owns the symbol, so two workers placing the same
        # id at once cannot both pass, and a client retrying after -1007 gets no second order.
        return _DUPLICATE_CLIENT_ID
    limit = order.type is OrderType.LIMIT
    sign = order.side.sign
    if order.reduce_only and (position.qty * sign >= 0 or order.qty > abs(position.qty)):
        return _REDUCE_ONLY
    if limit and order.time_in_force in RESTING and len(position.orders) >= contract.max_num_orders:
        return _MAX_OPEN
    if limit:
        assert order.price is not None
        rejected = _percent_price(order.price, sign, contract)
        if rejected is not None:
            return rejected
        if order.time_in_force is TimeInForce.GTX and makers.crosses(order.price):
            return _GTX_REJECTED
    if order.reduce_only:
        return None
    price = order.price if limit else makers.best_price()
    if price is None:
        return None  # a market order into an empty book: nothing will fill, nothing to cover
    notional = price * order.qty * contract.unit
    if not limit and notional < contract.min_notional:
        return Rejected(
            Code.MIN_NOTIONAL,
            f"Order's notional must be no smaller than {contract.spec.min_notional} "
            "(unless you choose reduce only).",
        )
    after = abs(position.qty + sign * order.qty)
    if after > abs(position.qty) and after * price * contract.unit > position.max_notional:
        return MAX_POSITION_REJECTED
    if initial_margin(notional, position.leverage) > available(account):
        return _MARGIN
    return None


def _percent_price(price: Ticks, sign: int, contract: Contract) -> Rejected | None:
    """Binance's PERCENT_PRICE filter: a limit price within the multipliers of the mark (not
    checked before the symbol has any price)."""
    mark = contract.mark_price()
    if mark is None:
        return None
    if sign > 0 and price > (ceiling := mark * contract.up_ppm // PPM):
        return Rejected(
            Code.PRICE_HIGHER_THAN_MULTIPLIER_UP,
            f"Limit price can't be higher than {contract.spec.price_str(ceiling)}.",
        )
    if sign < 0 and price < (floor := -(-mark * contract.down_ppm // PPM)):
        return Rejected(
            Code.PRICE_LOWER_THAN_MULTIPLIER_DOWN,
            f"Limit price can't be lower than {contract.spec.price_str(floor)}.",
        )
    return None


def _malformed(order: PlaceOrder) -> Rejected | None:
    """Guards the engine against a command the API should never have sent."""
    if order.type is OrderType.MARKET:
        return None if order.qty > 0 else _bad_param("quantity")
    if order.type is not OrderType.LIMIT:
        return Rejected(Code.INVALID_ORDER_TYPE, "Invalid orderType.")
    if order.qty <= 0:
        return _bad_param("quantity")
    if order.price is None or order.price <= 0:
        return _bad_param("price")
    if order.time_in_force is None:
        return _bad_param("timeInForce")
    return None


def _bad_param(name: str) -> Rejected:
    return Rejected(
        Code.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
        f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
    )
