"""The market's operator knobs and the liquidations' truth:

- `POST /stampede/admin/shock` `{"symbol", "pct"?, "notional"?, "venue"?}` (exactly one of
  pct and notional): `pct` moves one venue's price (`venue`) or, with no venue, the whole market
  for the symbol; `notional` (USDT, negative sells) is a market order: on a venue when one is
  named or when the symbol is a collateral asset's book (`USDEUSDT`), otherwise on the
  exchange's own book, sent by the operator's shock account and answered with what filled;
- `PUT /stampede/admin/depth` `{"pct": 0..100}`: makers withdraw that share of their depth;
- `PUT /stampede/admin/oracle` `{"mode": "spot"|"index", "symbol"?, "asset"?}`: how marks (a
  symbol) or collateral (an asset) are priced; neither named: everything;
- `GET /stampede/liquidations`: every liquidation the engine made, per symbol and in total,
  from the read model, with the insurance fund.

Knobs go to Redis (`store/scenario.py`) for the market agent, which applies them on its next
round; the admin routes take the guard in `admin_auth.py`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field, model_validator

from exchange_mock.api.admin_auth import require_admin
from exchange_mock.api.context import context_of, operator_of
from exchange_mock.domain.commands import PlaceOrder
from exchange_mock.domain.replies import Done, Rejected
from exchange_mock.errors import Code, ExchangeError
from exchange_mock.formats import JsonObject, cash_str
from exchange_mock.store.scenario import VenueShock
from exchange_mock.symbols import SymbolSpec
from exchange_mock.types import CASH_SCALE, OrderType, Side

MAX_PCT = 100.0
"""The largest rise a `pct` shock may ask for: a doubling (a fall stops short of -100%)."""

router = APIRouter(prefix="/stampede", tags=["operator"])
operator = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)])


class Shock(BaseModel):
    symbol: str
    pct: float | None = Field(default=None, gt=-100, le=MAX_PCT, allow_inf_nan=False)
    notional: Decimal | None = Field(default=None, allow_inf_nan=False)
    venue: str | None = None

    @model_validator(mode="after")
    def _one_size(self) -> Shock:
        if (self.pct is None) == (self.notional is None):
            raise ValueError("give exactly one of pct or notional")
        return self


class Depth(BaseModel):
    pct: float = Field(ge=0, le=100)


class Oracle(BaseModel):
    mode: Literal["spot", "index"]
    symbol: str | None = None
    asset: str | None = None


def _invalid(name: str) -> ExchangeError:
    return ExchangeError(Code.INVALID_PARAMETER, f"Data sent for parameter '{name}' is not valid.")


@operator.post("/shock", summary="Move a venue's price, or sell or buy a notional at market")
async def shock(body: Shock, request: Request) -> JsonObject:
    ops = operator_of(request)
    venues = ops.venues.get(body.symbol)
    if venues is None:
        raise ExchangeError(Code.BAD_SYMBOL, "Invalid symbol.")
    whole_venue = venues.get(body.venue)
    if whole_venue is None:
        raise _invalid("venue")
    spec = context_of(request).symbols.get(body.symbol)
    if body.notional is not None and body.venue is None and spec is not None:
        if body.notional == 0:
            raise _invalid("notional")
        return await _market_shock(request, spec, body.notional)
    if body.notional is not None and not abs(body.notional) < whole_venue:
        raise _invalid("notional")  # would take the venue's price to zero, or double it twice
    notional = None if body.notional is None else float(body.notional)
    shock = VenueShock(body.symbol, body.venue, body.pct, notional)
    await ops.scenario.push_shock(shock)
    return {"symbol": body.symbol, "venue": body.venue, "pct": body.pct, "queued": True}


async def _market_shock(request: Request, spec: SymbolSpec, notional: Decimal) -> JsonObject:
    """Market orders from the shock account for `notional` at the current mark, in chunks of
    the contract's market-order maximum, as a real client would have to send them, until the
    notional is sent or an order fills nothing (the book is empty: the rest would not either)."""
    ctx = context_of(request)
    mark = (await ctx.reads.mark(spec.symbol)).price or spec.ticks(spec.reference_price) or 1
    side = Side.SELL if notional < 0 else Side.BUY
    lots = int(abs(notional) * CASH_SCALE) // (mark * spec.cash_per_tick_lot)
    chunk = spec.lots(spec.market_max_qty) or lots
    account = ctx.accounts.shock_account
    filled = quote = 0
    refused: list[str] = []
    while lots > 0:
        qty = min(lots, chunk)
        lots -= qty
        command = PlaceOrder(
            account, spec.symbol, side, OrderType.MARKET, qty, None, None, False, "", ctx.clock()
        )
        reply = await ctx.bus.submit(command)
        if isinstance(reply, Rejected):
            refused.append(f"{reply.code} {reply.msg}")
            break
        if not (isinstance(reply, Done) and reply.orders and reply.orders[0].executed_qty):
            break
        filled += reply.orders[0].executed_qty
        quote += reply.orders[0].cum_quote
    return {
        "symbol": spec.symbol,
        "side": side.value,
        "executedQty": spec.qty_str(filled),
        "cumQuote": cash_str(quote),
        "refused": refused,
    }


@operator.put("/depth", summary="Market makers withdraw this share of their depth")
async def depth(body: Depth, request: Request) -> JsonObject:
    await operator_of(request).scenario.set_depth(body.pct)
    return {"depth_pct": body.pct}


@operator.put("/oracle", summary="Price marks or collateral from the own book or the index")
async def oracle(body: Oracle, request: Request) -> JsonObject:
    ops = operator_of(request)
    if body.symbol is not None and body.asset is not None:
        raise ExchangeError(
            Code.OPTIONAL_PARAMS_BAD_COMBO, "Send at most one of 'symbol' and 'asset'."
        )
    name = body.symbol or body.asset
    if body.symbol is not None and context_of(request).symbols.get(body.symbol) is None:
        raise ExchangeError(Code.BAD_SYMBOL, "Invalid symbol.")
    if body.asset is not None and ops.collateral.get(body.asset) is None:
        raise _invalid("asset")
    await ops.scenario.set_oracle(body.mode, name)
    return {"mode": body.mode, "symbol": body.symbol, "asset": body.asset}


@router.get("/liquidations", summary="Every liquidation the engine made (the truth counter)")
async def liquidations(request: Request) -> JsonObject:
    stats, fund, projected = await context_of(request).reads.liquidations()
    per_symbol = {
        symbol: {
            "count": each.count,
            "notional": cash_str(each.notional),
            "time": each.time,
            "adlCount": each.adl_count,
            "adlNotional": cash_str(each.adl_notional),
        }
        for symbol, each in stats.items()
    }
    return {
        "symbols": per_symbol,
        "total": {
            "count": sum(each.count for each in stats.values()),
            "notional": cash_str(sum(each.notional for each in stats.values())),
            "adlCount": sum(each.adl_count for each in stats.values()),
            "adlNotional": cash_str(sum(each.adl_notional for each in stats.values())),
        },
        "insuranceFund": cash_str(fund),
        "readSeq": projected,
    }


router.include_router(operator)
