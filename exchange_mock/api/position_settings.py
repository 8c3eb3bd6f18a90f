"""The account's position settings: position mode (one-way or hedge) and margin type.

The engine keeps one-way positions under cross margin and nothing else, so these routes report
that and refuse a change away from it with the code Binance gives for the account's state
(open positions, open orders, isolated margin asked of a Multi-Assets account), and -1020
otherwise: a client asking for hedge mode or isolated
margin learns it is not available rather than trading on a setting that was never applied.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from exchange_mock.api import wire
from exchange_mock.api.auth import AccountCall, Signed, SignedRoute
from exchange_mock.api.params import invalid
from exchange_mock.api.wire.config import CROSSED
from exchange_mock.errors import Code, ExchangeError
from exchange_mock.store.views import AccountView

router = APIRouter(tags=["trade"], route_class=SignedRoute)

ISOLATED = "ISOLATED"


async def _refuse_if_busy(
    call: AccountCall, symbol: str | None, with_position: ExchangeError, with_orders: ExchangeError
) -> AccountView:
    """Binance refuses a mode change while the account (or the symbol) holds a position, then
    while it has open orders; the account as read, for the checks after these."""
    ctx, account = call.ctx, call.account.id
    view = await ctx.reads.account(account)
    if any(p.qty for p in view.positions.values() if symbol is None or p.symbol == symbol):
        raise with_position
    if await ctx.reads.open_orders(account, symbol):
        raise with_orders
    return view


@router.get("/fapi/v1/positionSide/dual", summary="Current position mode (USER_DATA)")
async def position_mode(call: Signed) -> Response:
    return wire.json_response({"dualSidePosition": False})


@router.post("/fapi/v1/positionSide/dual", summary="Change position mode (TRADE)")
async def change_position_mode(call: Signed) -> Response:
    call.params.require("dualSidePosition")
    if not call.params.boolean("dualSidePosition", False):
        raise ExchangeError(
            Code.NO_NEED_TO_CHANGE_POSITION_SIDE, "No need to change position side."
        )
    await _refuse_if_busy(
        call,
        None,
        ExchangeError(
            Code.POSITION_SIDE_WITH_POSITION,
            "Position side cannot be changed if there exists position.",
        ),
        ExchangeError(
            Code.POSITION_SIDE_WITH_OPEN_ORDERS,
            "Position side cannot be changed if there exists open orders.",
        ),
    )
    raise ExchangeError(
        Code.UNSUPPORTED_OPERATION,
        "This operation is not supported: hedge mode; positions here are one-way.",
    )


@router.post("/fapi/v1/marginType", summary="Change a symbol's margin type (TRADE)")
async def change_margin_type(call: Signed) -> Response:
    spec = call.params.symbol(call.ctx.symbols)
    margin_type = call.params.require("marginType").upper()
    if margin_type == CROSSED:
        raise ExchangeError(Code.NO_NEED_TO_CHANGE_MARGIN_TYPE, "No need to change margin type.")
    if margin_type != ISOLATED:
        raise invalid("marginType")
    view = await _refuse_if_busy(
        call,
        spec.symbol,
        ExchangeError(
            Code.MARGIN_TYPE_WITH_POSITION,
            "Margin type cannot be changed if there exists position.",
        ),
        ExchangeError(
            Code.MARGIN_TYPE_WITH_OPEN_ORDERS,
            "Margin type cannot be changed if there exists open orders.",
        ),
    )
    if any(view.collateral.values()):
        # accountConfig reports such an account in Multi-Assets mode, as Binance would.
        raise ExchangeError(
            Code.ISOLATED_UNDER_MULTI_ASSETS,
            "Unable to adjust to isolated-margin mode under the Multi-Assets mode.",
        )
    raise ExchangeError(
        Code.UNSUPPORTED_OPERATION,
        "This operation is not supported: isolated margin; positions here are cross-margined.",
    )
