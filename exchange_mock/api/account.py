"""Account reads: leverage brackets, positions, account information, balances, and the
account's and its symbols' configuration.

These are the hot reads of a cascade (position queries up about 1000x), so each is one read-model
round trip, converted with integer arithmetic and serialized once. Every response carries the
sequences it reflects, so a client or the harness can see how far behind the journal it is:

- `X-Stampede-Read-Seq`: the journal sequence the projector has applied up to;
- `X-Stampede-Account-Seq`: the sequence of the last event applied to this account;
- `X-Stampede-Journal-Seq`: the journal's head when the read was made.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from exchange_mock.api import wire
from exchange_mock.api.auth import AccountCall, Signed, SignedRoute
from exchange_mock.store.views import AccountView

router = APIRouter(tags=["account"], route_class=SignedRoute)
"""Routes match in declaration order, so the hottest reads come first."""


def _lag_headers(view: AccountView) -> dict[str, str]:
    return {
        "X-Stampede-Read-Seq": str(view.projected_seq),
        "X-Stampede-Account-Seq": str(view.seq),
        "X-Stampede-Journal-Seq": str(view.journal_head),
    }


async def _position_risk(call: AccountCall, version: wire.Version) -> Response:
    ctx = call.ctx
    spec = call.params.optional_symbol(ctx.symbols)
    view = await ctx.reads.account(call.account.id)
    specs = ctx.symbols.symbols if spec is None else (spec,)
    leverage, every = ctx.settings.default_leverage, ctx.symbols.symbols
    positions = wire.positions.position_risk(view, specs, version, leverage, every)
    return wire.json_response(positions, _lag_headers(view))


@router.get("/fapi/v2/positionRisk", summary="Positions, every symbol (USER_DATA)")
async def position_risk_v2(call: Signed) -> Response:
    return await _position_risk(call, 2)


@router.get("/fapi/v3/positionRisk", summary="Positions, open ones only (USER_DATA)")
async def position_risk_v3(call: Signed) -> Response:
    return await _position_risk(call, 3)


async def _account(call: AccountCall, version: wire.Version) -> Response:
    ctx = call.ctx
    view = await ctx.reads.account(call.account.id)
    body = wire.accounts.account(
        view, ctx.symbols.symbols, version, ctx.settings.default_leverage, ctx.collateral.listed
    )
    return wire.json_response(body, _lag_headers(view))


@router.get("/fapi/v2/account", summary="Account information, every symbol (USER_DATA)")
async def account_v2(call: Signed) -> Response:
    return await _account(call, 2)


@router.get("/fapi/v3/account", summary="Account information, open positions (USER_DATA)")
async def account_v3(call: Signed) -> Response:
    return await _account(call, 3)


@router.get("/fapi/v2/balance", summary="Futures account balance (USER_DATA)")
@router.get("/fapi/v3/balance", summary="Futures account balance (USER_DATA)")
async def balance(call: Signed) -> Response:
    ctx = call.ctx
    view = await ctx.reads.account(call.account.id)
    body = wire.accounts.balances(
        view, ctx.symbols.symbols, ctx.settings.default_leverage, ctx.collateral.listed
    )
    return wire.json_response(body, _lag_headers(view))


@router.get("/fapi/v1/leverageBracket", summary="Notional and leverage brackets (USER_DATA)")
async def leverage_bracket(call: Signed) -> Response:
    ctx = call.ctx
    spec = call.params.optional_symbol(ctx.symbols)
    if spec is not None:
        return wire.json_response(wire.exchange_info.leverage_brackets(spec))
    return wire.json_response(
        [wire.exchange_info.leverage_brackets(each) for each in ctx.symbols.symbols]
    )


@router.get("/fapi/v1/commissionRate", summary="A symbol's commission rates (USER_DATA)")
async def commission_rate(call: Signed) -> Response:
    return wire.json_response(wire.accounts.commission_rate(call.params.symbol(call.ctx.symbols)))


@router.get("/fapi/v1/adlQuantile", summary="ADL quantile of each position (USER_DATA)")
async def adl_quantile(call: Signed) -> Response:
    """The symbol asked for, or every symbol the account holds a position in."""
    ctx = call.ctx
    spec = call.params.optional_symbol(ctx.symbols)
    view = await ctx.reads.account(call.account.id)
    symbols = (
        [spec.symbol]
        if spec is not None
        else [p.symbol for p in sorted(view.positions.values(), key=lambda p: p.symbol) if p.qty]
    )
    body = [wire.positions.adl_quantile(symbol, view) for symbol in symbols]
    return wire.json_response(body, _lag_headers(view))


@router.get("/fapi/v1/accountConfig", summary="Fee tier, position and margin modes (USER_DATA)")
async def account_config(call: Signed) -> Response:
    view = await call.ctx.reads.account(call.account.id)
    return wire.json_response(wire.config.account_config(view), _lag_headers(view))


@router.get("/fapi/v1/symbolConfig", summary="Margin type and leverage per symbol (USER_DATA)")
async def symbol_config(call: Signed) -> Response:
    ctx = call.ctx
    spec = call.params.optional_symbol(ctx.symbols)
    view = await ctx.reads.account(call.account.id)
    specs = ctx.symbols.symbols if spec is None else (spec,)
    body = wire.config.symbol_config(view, specs, ctx.settings.default_leverage)
    return wire.json_response(body, _lag_headers(view))
