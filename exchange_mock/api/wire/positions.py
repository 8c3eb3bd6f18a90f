"""Positions as positionRisk (v2, v3) and the account's position list send them: each symbol
valued at the mark in the engine's integers, its margin by `risk.py`'s arithmetic, its
liquidation price under cross margin."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import cache
from typing import NamedTuple

from exchange_mock import risk
from exchange_mock.api.wire.collateral import wallet
from exchange_mock.api.wire.response import Version, project
from exchange_mock.formats import (
    MARGIN_ASSET,
    POSITION_SIDE,
    ZERO,
    JsonObject,
    cash_str,
    mark_ticks,
    unit_price,
)
from exchange_mock.risk import Tiers, initial_margin, liquidation_price
from exchange_mock.store.views import AccountView
from exchange_mock.symbols import SymbolSpec
from exchange_mock.types import CASH_SCALE, Cash, Lots, Millis, Ticks

_NO_ORDERS = (0, 0)

POSITION_RISK_FIELDS: dict[Version, tuple[str, ...]] = {
    2: (
        "symbol",
        "positionAmt",
        "entryPrice",
        "breakEvenPrice",
        "markPrice",
        "unRealizedProfit",
        "liquidationPrice",
        "leverage",
        "maxNotionalValue",
        "marginType",
        "isolatedMargin",
        "isAutoAddMargin",
        "positionSide",
        "notional",
        "isolatedWallet",
        "updateTime",
    ),
    3: (
        "symbol",
        "positionSide",
        "positionAmt",
        "entryPrice",
        "breakEvenPrice",
        "markPrice",
        "unRealizedProfit",
        "liquidationPrice",
        "isolatedMargin",
        "notional",
        "marginAsset",
        "isolatedWallet",
        "initialMargin",
        "maintMargin",
        "positionInitialMargin",
        "openOrderInitialMargin",
        "adl",
        "bidNotional",
        "askNotional",
        "updateTime",
    ),
}
FLAT_POSITIONS_LISTED: dict[Version, bool] = {2: True, 3: False}
"""v2 lists every symbol asked for; v3 only those with a position or open orders."""


@cache
def max_notional(spec: SymbolSpec, leverage: int) -> str:
    """The largest position notional the brackets allow at this leverage, as the table writes
    it ("50000", not cash's eight places)."""
    return str(Decimal(risk.max_notional(spec, leverage)) / CASH_SCALE)


class Valued(NamedTuple):
    """One symbol's position valued at the mark, in the engine's integers (a tuple: built for
    every symbol on every account read)."""

    spec: SymbolSpec
    lots: Lots
    cost: Cash
    mark: Ticks
    notional: Cash
    """Signed, at the mark."""
    leverage: int
    initial_margin: Cash
    """The position's; the open orders' is `open_order_margin`."""
    maint_margin: Cash
    update_time: Millis
    adl: int
    bid_notional: Cash
    ask_notional: Cash
    """Of the open orders that hold margin, on each side."""
    open_order_margin: Cash

    @property
    def unrealized(self) -> Cash:
        return self.notional - self.cost


def value(spec: SymbolSpec, view: AccountView, default_leverage: int) -> Valued:
    position = view.positions.get(spec.symbol)
    lots, cost, update_time = (
        (position.qty, position.cost, position.update_time) if position else (0, 0, 0)
    )
    mark = mark_ticks(spec, view.marks.get(spec.symbol))
    leverage = view.leverage.get(spec.symbol) or risk.default_leverage(spec, default_leverage)
    bid, ask = view.open_notional.get(spec.symbol, _NO_ORDERS)
    notional = spec.notional(mark, lots)
    # Most symbols on most reads hold nothing: spare them the brackets' lookup.
    maint_margin = _tiers(spec).maintenance(abs(notional)) if notional else 0
    return Valued(
        spec=spec,
        lots=lots,
        cost=cost,
        mark=mark,
        notional=notional,
        leverage=leverage,
        initial_margin=initial_margin(notional, leverage),
        maint_margin=maint_margin,
        update_time=update_time,
        adl=view.adl.get(spec.symbol, 0) if lots else 0,
        bid_notional=bid,
        ask_notional=ask,
        open_order_margin=initial_margin(bid + ask, leverage),
    )


def position_fields(p: Valued, liquidation: str = ZERO) -> JsonObject:
    """Every field any version of a position sends; versions pick from it. Its initial margin
    is the position's plus its open orders', as the engine's margin check counts it."""
    spec = p.spec
    entry = unit_price(spec, p.cost, p.lots)
    unrealized = cash_str(p.unrealized)
    initial = cash_str(p.initial_margin)
    cap = max_notional(spec, p.leverage)
    return {
        "symbol": spec.symbol,
        "positionSide": POSITION_SIDE,
        "positionAmt": spec.qty_str(p.lots),
        "entryPrice": entry,
        "breakEvenPrice": entry,
        "markPrice": spec.price_str(p.mark),
        "unRealizedProfit": unrealized,
        "unrealizedProfit": unrealized,
        "liquidationPrice": liquidation,
        "leverage": str(p.leverage),
        "maxNotionalValue": cap,
        "maxNotional": cap,
        "marginType": "cross",
        "isolated": False,
        "isAutoAddMargin": "false",
        "isolatedMargin": ZERO,
        "isolatedWallet": ZERO,
        "notional": cash_str(p.notional),
        "marginAsset": MARGIN_ASSET,
        "initialMargin": cash_str(p.initial_margin + p.open_order_margin),
        "maintMargin": cash_str(p.maint_margin),
        "positionInitialMargin": initial,
        "openOrderInitialMargin": cash_str(p.open_order_margin),
        "bidNotional": cash_str(p.bid_notional),
        "askNotional": cash_str(p.ask_notional),
        "adl": p.adl,
        "updateTime": p.update_time,
    }


def listed(valued: list[Valued], version: Version) -> list[Valued]:
    if FLAT_POSITIONS_LISTED[version]:
        return valued
    return [p for p in valued if p.lots or p.bid_notional or p.ask_notional]


@cache
def _tiers(spec: SymbolSpec) -> Tiers:
    return Tiers(spec)


def liquidation_prices(view: AccountView, every: list[Valued]) -> dict[str, str]:
    """Each open position's liquidation price under cross margin, by Binance's formula with
    the other positions at their marks (the engine liquidates at the tick it falls in); absent
    where no positive price liquidates. `every` must value every listed symbol."""
    valued = [p for p in every if p.lots]
    unrealized = sum(p.unrealized for p in valued)
    maintenance = sum(p.maint_margin for p in valued)
    base = wallet(view) + unrealized - maintenance
    prices: dict[str, str] = {}
    for p in valued:
        spec = p.spec
        cushion = base - p.unrealized + p.maint_margin
        ticks = liquidation_price(_tiers(spec), p.lots, p.cost, spec.cash_per_tick_lot, cushion)
        if ticks is not None:
            price = Decimal(ticks.numerator) / ticks.denominator * spec.tick_size
            prices[spec.symbol] = f"{price:.8f}"
    return prices


def position_risk(
    view: AccountView,
    specs: Sequence[SymbolSpec],
    version: Version,
    default_leverage: int,
    every: Sequence[SymbolSpec] | None = None,
) -> list[JsonObject]:
    """Positions of `specs`; `every` (all listed symbols, by default `specs`) is what the
    cross-margin liquidation prices are computed over."""
    fields = POSITION_RISK_FIELDS[version]
    every_valued = [value(spec, view, default_leverage) for spec in every or specs]
    by_symbol = {p.spec.symbol: p for p in every_valued}
    valued = [by_symbol.get(spec.symbol) or value(spec, view, default_leverage) for spec in specs]
    prices = liquidation_prices(view, every_valued)
    return [
        project(position_fields(p, prices.get(p.spec.symbol, ZERO)), fields)
        for p in listed(valued, version)
    ]


def adl_quantile(symbol: str, view: AccountView) -> JsonObject:
    """A one-way position's ADL quantile (0-4, low to high) sits under BOTH, as Binance shows a
    one-way account's; LONG and SHORT are the hedge-mode sides this venue does not keep."""
    position = view.positions.get(symbol)
    quantile = view.adl.get(symbol, 0) if position and position.qty else 0
    return {"symbol": symbol, "adlQuantile": {"LONG": 0, "SHORT": 0, "BOTH": quantile}}
