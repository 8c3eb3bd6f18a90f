"""The contracts' rules: exchangeInfo and the leverage brackets."""

from __future__ import annotations

from decimal import Decimal

from exchange_mock.api.filters import ORDER_TYPES
from exchange_mock.formats import ZERO, JsonObject
from exchange_mock.symbols import SymbolSpec, SymbolTable
from exchange_mock.types import Millis, TimeInForce

PERPETUAL_DELIVERY_DATE = 4133404800000
"""Binance's placeholder delivery date for perpetual contracts (2100-12-25)."""


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


def _symbol_info(spec: SymbolSpec, now: Millis) -> JsonObject:
    """A delivered contract stays listed as DELIVERING: the mock refuses its orders but does not
    settle its positions, so they stay to be seen."""
    return {
        "symbol": spec.symbol,
        "pair": spec.pair,
        "contractType": spec.contract_type.value,
        "deliveryDate": spec.delivery_date or PERPETUAL_DELIVERY_DATE,
        "onboardDate": spec.onboard_date,
        "status": "DELIVERING" if spec.delivered(now) else "TRADING",
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
        "symbols": [_symbol_info(spec, server_time) for spec in symbols.symbols],
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
