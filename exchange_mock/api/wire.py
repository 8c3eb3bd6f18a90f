"""Explicit converters from the engine's snapshots and the read model's views to Binance's JSON.

This is the one place Binance's field names live. Decimals leave as strings, ids as integers,
times in milliseconds. Where Binance serves several versions of one resource (positionRisk,
account), every field is computed once and each version is a table of the field names it sends,
so the versions cannot drift apart in how they compute a value.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import cache
from typing import Any, Literal, NamedTuple

import orjson
from fastapi import Response

from exchange_mock import risk
from exchange_mock.api.filters import ORDER_TYPES
from exchange_mock.domain.events import OrderSnapshot
from exchange_mock.formats import (
    MARGIN_ASSET,
    POSITION_SIDE,
    ZERO,
    JsonObject,
    cash_str,
    mark_ticks,
    next_funding_time,
    unit_price,
)
from exchange_mock.risk import (
    Tiers,
    collateral_units,
    collateral_value,
    initial_margin,
    liquidation_price,
)
from exchange_mock.settings import FUNDING_INTERVAL_MS
from exchange_mock.store.views import AccountView, DepthView, MarkView, TickerView
from exchange_mock.symbols import SymbolSpec, SymbolTable
from exchange_mock.types import (
    CASH_SCALE,
    Cash,
    Lots,
    Millis,
    Ticks,
    TimeInForce,
)

Version = Literal[2, 3]

PERPETUAL_DELIVERY_DATE = 4133404800000
"""Binance's placeholder delivery date for perpetual contracts (2100-12-25)."""
INTEREST_RATE = "0.00010000"
"""Binance's fixed interest component of funding (0.01% per 8 hours)."""
_NO_ORDERS = (0, 0)


def json_response(content: Any, headers: dict[str, str] | None = None) -> Response:
    """orjson straight into a Response: no pydantic model, no second serialization pass."""
    return Response(orjson.dumps(content), media_type="application/json", headers=headers)


def _project(full: JsonObject, fields: tuple[str, ...]) -> JsonObject:
    return {name: full[name] for name in fields}


@cache
def max_notional(spec: SymbolSpec, leverage: int) -> str:
    """The largest position notional the brackets allow at this leverage, as the table writes
    it ("50000", not cash's eight places)."""
    return str(Decimal(risk.max_notional(spec, leverage)) / CASH_SCALE)


# -- orders ---------------------------------------------------------------------------------


def order(spec: SymbolSpec, snapshot: OrderSnapshot) -> JsonObject:
    executed = spec.qty_str(snapshot.executed_qty)
    return {
        "orderId": snapshot.order_id,
        "symbol": snapshot.symbol,
        "status": snapshot.status.value,
        "clientOrderId": snapshot.client_order_id,
        "price": ZERO if snapshot.price is None else spec.price_str(snapshot.price),
        "avgPrice": unit_price(spec, snapshot.cum_quote, snapshot.executed_qty),
        "origQty": spec.qty_str(snapshot.qty),
        "executedQty": executed,
        "cumQty": executed,
        "cumQuote": cash_str(snapshot.cum_quote),
        "timeInForce": (snapshot.time_in_force or TimeInForce.GTC).value,
        "type": snapshot.type.value,
        "origType": snapshot.type.value,
        "reduceOnly": snapshot.reduce_only,
        "closePosition": False,
        "side": snapshot.side.value,
        "positionSide": POSITION_SIDE,
        "stopPrice": ZERO,
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "NONE",
        "goodTillDate": 0,
        "time": snapshot.time,
        "updateTime": snapshot.update_time,
    }


# -- positions, accounts, balances ----------------------------------------------------------

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
ACCOUNT_POSITION_FIELDS: dict[Version, tuple[str, ...]] = {
    2: (
        "symbol",
        "initialMargin",
        "maintMargin",
        "unrealizedProfit",
        "positionInitialMargin",
        "openOrderInitialMargin",
        "leverage",
        "isolated",
        "entryPrice",
        "breakEvenPrice",
        "maxNotional",
        "bidNotional",
        "askNotional",
        "positionSide",
        "positionAmt",
        "updateTime",
    ),
    3: (
        "symbol",
        "positionSide",
        "positionAmt",
        "unrealizedProfit",
        "isolatedMargin",
        "notional",
        "isolatedWallet",
        "initialMargin",
        "maintMargin",
        "updateTime",
    ),
}
FLAT_POSITIONS_LISTED: dict[Version, bool] = {2: True, 3: False}
"""v2 lists every symbol asked for; v3 only those with a position or open orders."""
_TOTALS = (
    "totalInitialMargin",
    "totalMaintMargin",
    "totalWalletBalance",
    "totalUnrealizedProfit",
    "totalMarginBalance",
    "totalPositionInitialMargin",
    "totalOpenOrderInitialMargin",
    "totalCrossWalletBalance",
    "totalCrossUnPnl",
    "availableBalance",
    "maxWithdrawAmount",
)
ACCOUNT_FIELDS: dict[Version, tuple[str, ...]] = {
    2: (
        "feeTier",
        "feeBurn",
        "canTrade",
        "canDeposit",
        "canWithdraw",
        "updateTime",
        "multiAssetsMargin",
        "tradeGroupId",
        *_TOTALS,
        "assets",
        "positions",
    ),
    3: (*_TOTALS, "assets", "positions"),
}
_ASSET = (
    "asset",
    "walletBalance",
    "unrealizedProfit",
    "marginBalance",
    "maintMargin",
    "initialMargin",
    "positionInitialMargin",
    "openOrderInitialMargin",
    "crossWalletBalance",
    "crossUnPnl",
    "availableBalance",
    "maxWithdrawAmount",
)
ACCOUNT_ASSET_FIELDS: dict[Version, tuple[str, ...]] = {
    2: (*_ASSET, "marginAvailable", "updateTime"),
    3: (*_ASSET, "updateTime"),
}
BALANCE_FIELDS: tuple[str, ...] = (
    "accountAlias",
    "asset",
    "balance",
    "crossWalletBalance",
    "crossUnPnl",
    "availableBalance",
    "maxWithdrawAmount",
    "marginAvailable",
    "updateTime",
)


class _Valued(NamedTuple):
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


def _value(spec: SymbolSpec, view: AccountView, default_leverage: int) -> _Valued:
    position = view.positions.get(spec.symbol)
    lots, cost, update_time = (
        (position.qty, position.cost, position.update_time) if position else (0, 0, 0)
    )
    mark = mark_ticks(spec, view.marks.get(spec.symbol))
    leverage = view.leverage.get(spec.symbol) or risk.default_leverage(spec, default_leverage)
    bid, ask = view.open_notional.get(spec.symbol, _NO_ORDERS)
    notional = spec.notional(mark, lots)
    return _Valued(
        spec=spec,
        lots=lots,
        cost=cost,
        mark=mark,
        notional=notional,
        leverage=leverage,
        initial_margin=initial_margin(notional, leverage),
        maint_margin=_tiers(spec).maintenance(abs(notional)),
        update_time=update_time,
        adl=view.adl.get(spec.symbol, 0) if lots else 0,
        bid_notional=bid,
        ask_notional=ask,
        open_order_margin=initial_margin(bid + ask, leverage),
    )


def _position_fields(p: _Valued, liquidation: str = ZERO) -> JsonObject:
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


def _listed(valued: list[_Valued], version: Version) -> list[_Valued]:
    if FLAT_POSITIONS_LISTED[version]:
        return valued
    return [p for p in valued if p.lots or p.bid_notional or p.ask_notional]


@cache
def _tiers(spec: SymbolSpec) -> Tiers:
    return Tiers(spec)


def wallet(view: AccountView) -> Cash:
    """USDT plus collateral at its haircut value, as the engine counts margin."""
    total = view.balance
    for asset, amount in view.collateral.items():
        price = view.collateral_prices.get(asset)
        if price is not None:
            total += collateral_value(amount, *price)
    return total


def liquidation_prices(view: AccountView, every: list[_Valued]) -> dict[str, str]:
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
    every_valued = [_value(spec, view, default_leverage) for spec in every or specs]
    by_symbol = {p.spec.symbol: p for p in every_valued}
    valued = [by_symbol.get(spec.symbol) or _value(spec, view, default_leverage) for spec in specs]
    prices = liquidation_prices(view, every_valued)
    return [
        _project(_position_fields(p, prices.get(p.spec.symbol, ZERO)), fields)
        for p in _listed(valued, version)
    ]


class _Figures(NamedTuple):
    usdt: JsonObject
    """The USDT asset's fields (also the balance endpoint's)."""
    totals: JsonObject
    """The account's `total…`, `availableBalance` and `maxWithdrawAmount`."""
    withdrawable: Cash


def _figures(view: AccountView, valued: list[_Valued]) -> _Figures:
    """The USDT asset's figures under cross margin and the account totals. The totals count
    collateral at its haircut value, as the engine's margin check does (so `availableBalance`
    is what a new order may commit); the USDT asset's balances are USDT alone."""
    usdt = view.balance
    total = wallet(view)
    unrealized = sum(p.unrealized for p in valued)
    positions = sum(p.initial_margin for p in valued)
    orders = sum(p.open_order_margin for p in valued)
    initial = positions + orders
    available = max(0, total + unrealized - initial)
    withdrawable = max(0, min(available, total - initial))
    text = {
        "usdt": cash_str(usdt),
        "wallet": cash_str(total),
        "unrealized": cash_str(unrealized),
        "initial": cash_str(initial),
        "positions": cash_str(positions),
        "orders": cash_str(orders),
        "maint": cash_str(sum(p.maint_margin for p in valued)),
        "available": cash_str(available),
    }
    asset = {
        "accountAlias": f"SA{view.account}",
        "asset": MARGIN_ASSET,
        "balance": text["usdt"],
        "walletBalance": text["usdt"],
        "unrealizedProfit": text["unrealized"],
        "marginBalance": cash_str(usdt + unrealized),
        "maintMargin": text["maint"],
        "initialMargin": text["initial"],
        "positionInitialMargin": text["positions"],
        "openOrderInitialMargin": text["orders"],
        "crossWalletBalance": text["usdt"],
        "crossUnPnl": text["unrealized"],
        "availableBalance": text["available"],
        "maxWithdrawAmount": cash_str(max(0, min(withdrawable, usdt))),
        "marginAvailable": True,
        "updateTime": view.balance_update_time,
    }
    totals = {
        "totalInitialMargin": text["initial"],
        "totalMaintMargin": text["maint"],
        "totalWalletBalance": text["wallet"],
        "totalUnrealizedProfit": text["unrealized"],
        "totalMarginBalance": cash_str(total + unrealized),
        "totalPositionInitialMargin": text["positions"],
        "totalOpenOrderInitialMargin": text["orders"],
        "totalCrossWalletBalance": text["wallet"],
        "totalCrossUnPnl": text["unrealized"],
        "availableBalance": text["available"],
        "maxWithdrawAmount": cash_str(withdrawable),
    }
    return _Figures(asset, totals, withdrawable)


def _collateral_fields(view: AccountView, free: Cash) -> list[JsonObject]:
    """Each collateral asset the account holds, in its own units (1e-8, printed like cash):
    what `free` margin allows of it to be withdrawn at its haircut value."""
    assets = []
    for asset, amount in sorted(view.collateral.items()):
        price = view.collateral_prices.get(asset)
        if not amount or price is None:
            continue
        held = cash_str(amount)
        free_units = cash_str(min(amount, collateral_units(free, *price)))
        assets.append(
            {
                "accountAlias": f"SA{view.account}",
                "asset": asset,
                "balance": held,
                "walletBalance": held,
                "unrealizedProfit": ZERO,
                "marginBalance": held,
                "maintMargin": ZERO,
                "initialMargin": ZERO,
                "positionInitialMargin": ZERO,
                "openOrderInitialMargin": ZERO,
                "crossWalletBalance": held,
                "crossUnPnl": ZERO,
                "availableBalance": free_units,
                "maxWithdrawAmount": free_units,
                "marginAvailable": True,
                "updateTime": view.balance_update_time,
            }
        )
    return assets


def account(
    view: AccountView, specs: Sequence[SymbolSpec], version: Version, default_leverage: int
) -> JsonObject:
    """Account information; `specs` must be every listed symbol, since totals sum over them.
    The assets are USDT and each collateral asset held."""
    every = [_value(spec, view, default_leverage) for spec in specs]
    figures = _figures(view, every)
    assets = [figures.usdt, *_collateral_fields(view, figures.withdrawable)]
    position_fields = ACCOUNT_POSITION_FIELDS[version]
    full = {
        **figures.totals,
        "feeTier": 0,
        "feeBurn": False,
        "canTrade": True,
        "canDeposit": True,
        "canWithdraw": True,
        "updateTime": 0,
        "multiAssetsMargin": len(assets) > 1,
        "tradeGroupId": -1,
        "assets": [_project(asset, ACCOUNT_ASSET_FIELDS[version]) for asset in assets],
        "positions": [
            _project(_position_fields(p), position_fields) for p in _listed(every, version)
        ],
    }
    return _project(full, ACCOUNT_FIELDS[version])


def balances(
    view: AccountView, specs: Sequence[SymbolSpec], default_leverage: int
) -> list[JsonObject]:
    """Futures account balance (v2 and v3 send the same shape): USDT and each collateral
    asset held; `specs` as for `account`."""
    every = [_value(spec, view, default_leverage) for spec in specs]
    figures = _figures(view, every)
    assets = [figures.usdt, *_collateral_fields(view, figures.withdrawable)]
    return [_project(asset, BALANCE_FIELDS) for asset in assets]


# -- market data ----------------------------------------------------------------------------


def _decimal_places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _symbol_filters(spec: SymbolSpec) -> list[JsonObject]:
    return [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": str(spec.min_price),
            "maxPrice": str(spec.max_price),
            "tickSize": str(spec.tick_size),
        },
        {
            "filterType": "LOT_SIZE",
            "minQty": str(spec.min_qty),
            "maxQty": str(spec.max_qty),
            "stepSize": str(spec.step_size),
        },
        {
            "filterType": "MARKET_LOT_SIZE",
            "minQty": str(spec.min_qty),
            "maxQty": str(spec.market_max_qty),
            "stepSize": str(spec.step_size),
        },
        {"filterType": "MAX_NUM_ORDERS", "limit": spec.max_num_orders},
        {"filterType": "MIN_NOTIONAL", "notional": str(spec.min_notional)},
        {
            "filterType": "PERCENT_PRICE",
            "multiplierUp": str(spec.multiplier_up),
            "multiplierDown": str(spec.multiplier_down),
            "multiplierDecimal": str(_decimal_places(spec.multiplier_up)),
        },
    ]


def _symbol_info(spec: SymbolSpec) -> JsonObject:
    return {
        "symbol": spec.symbol,
        "pair": spec.symbol,
        "contractType": "PERPETUAL",
        "deliveryDate": PERPETUAL_DELIVERY_DATE,
        "onboardDate": spec.onboard_date,
        "status": "TRADING",
        "baseAsset": spec.base_asset,
        "quoteAsset": spec.quote_asset,
        "marginAsset": spec.quote_asset,
        "pricePrecision": spec.price_precision,
        "quantityPrecision": spec.quantity_precision,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": [],
        "liquidationFee": str(spec.liquidation_fee),
        "marketTakeBound": str(spec.market_take_bound),
        "filters": _symbol_filters(spec),
        "orderTypes": list(ORDER_TYPES),
        "timeInForce": [tif.value for tif in TimeInForce],
    }


def exchange_info(
    symbols: SymbolTable, rate_limits: list[dict[str, str | int]], server_time: Millis
) -> JsonObject:
    margin_assets = dict.fromkeys(spec.quote_asset for spec in symbols.symbols)
    return {
        "timezone": "UTC",
        "serverTime": server_time,
        "futuresType": "U_MARGINED",
        "rateLimits": rate_limits,
        "exchangeFilters": [],
        "assets": [
            {"asset": asset, "marginAvailable": True, "autoAssetExchange": ZERO}
            for asset in margin_assets
        ],
        "symbols": [_symbol_info(spec) for spec in symbols.symbols],
    }


def depth(spec: SymbolSpec, view: DepthView, now: Millis) -> JsonObject:
    price, qty = spec.price_str, spec.qty_str
    return {
        "lastUpdateId": view.last_update_id,
        "E": now,
        "T": view.time,
        "bids": [[price(ticks), qty(lots)] for ticks, lots in view.bids],
        "asks": [[price(ticks), qty(lots)] for ticks, lots in view.asks],
    }


def _price_or_zero(spec: SymbolSpec, ticks: Ticks | None) -> str:
    """No trade yet: Binance's zero price."""
    return spec.price_str(0 if ticks is None else ticks)


def ticker_24hr(spec: SymbolSpec, view: TickerView) -> JsonObject:
    change, percent = 0, Decimal(0)
    if view.last_price is not None and view.open_price:
        change = view.last_price - view.open_price
        percent = Decimal(change * 100) / view.open_price
    return {
        "symbol": spec.symbol,
        "priceChange": spec.price_str(change),
        "priceChangePercent": str(percent.quantize(Decimal("0.001"))),
        "weightedAvgPrice": unit_price(spec, view.quote_volume, view.volume),
        "lastPrice": _price_or_zero(spec, view.last_price),
        "openPrice": _price_or_zero(spec, view.open_price),
        "highPrice": _price_or_zero(spec, view.high_price),
        "lowPrice": _price_or_zero(spec, view.low_price),
        "volume": spec.qty_str(view.volume),
        "quoteVolume": cash_str(view.quote_volume),
        "openTime": view.open_time,
        "closeTime": view.close_time,
        "firstId": view.first_trade_id,
        "lastId": view.last_trade_id,
        "count": view.count,
    }


def ticker_price(spec: SymbolSpec, view: TickerView) -> JsonObject:
    return {
        "symbol": spec.symbol,
        "price": _price_or_zero(spec, view.last_price),
        "time": view.close_time,
    }


def premium_index(
    spec: SymbolSpec, view: MarkView, now: Millis, funding_interval_ms: int = FUNDING_INTERVAL_MS
) -> JsonObject:
    """The mark and the index it came from; the index also stands for the settlement estimate
    (for a perpetual, an estimate of the index). `lastFundingRate` is, as on Binance, the rate
    the current interval's premium comes to so far: what its settlement would charge now. The
    mark stands in for the index before the engine has published one."""
    mark = mark_ticks(spec, view.price)
    index = spec.price_str(mark if view.index is None else view.index)
    return {
        "symbol": spec.symbol,
        "markPrice": spec.price_str(mark),
        "indexPrice": index,
        "estimatedSettlePrice": index,
        # A rate in 1e-8 units has the scale of cash, so it prints the same way.
        "lastFundingRate": cash_str(view.funding_rate),
        "interestRate": INTEREST_RATE,
        "nextFundingTime": next_funding_time(now, funding_interval_ms),
        "time": view.time or now,
    }


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def leverage_brackets(spec: SymbolSpec) -> JsonObject:
    """Binance sends the bracket figures as JSON numbers, not strings; so does the mock, so that
    clients doing arithmetic on them keep working."""
    return {
        "symbol": spec.symbol,
        "brackets": [
            {
                "bracket": tier.bracket,
                "initialLeverage": tier.max_leverage,
                "notionalCap": _number(tier.notional_cap),
                "notionalFloor": _number(tier.notional_floor),
                "maintMarginRatio": _number(tier.mmr),
                "cum": _number(tier.cum),
            }
            for tier in spec.brackets
        ],
    }
