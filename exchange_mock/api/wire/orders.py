"""An order as Binance's order endpoints answer it."""

from __future__ import annotations

from exchange_mock.domain.events import OrderSnapshot
from exchange_mock.formats import (
    MARGIN_ASSET,
    POSITION_SIDE,
    ZERO,
    JsonObject,
    cash_str,
    unit_price,
)
from exchange_mock.store.views import FillView
from exchange_mock.symbols import SymbolSpec
from exchange_mock.types import TimeInForce


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


def user_trade(spec: SymbolSpec, fill: FillView) -> JsonObject:
    return {
        "buyer": fill.buyer,
        "commission": cash_str(fill.commission),
        "commissionAsset": MARGIN_ASSET,
        "id": fill.trade_id,
        "maker": fill.maker,
        "orderId": fill.order_id,
        "price": spec.price_str(fill.price),
        "qty": spec.qty_str(fill.qty),
        "quoteQty": cash_str(fill.quote),
        "realizedPnl": cash_str(fill.realized_pnl),
        "side": "BUY" if fill.buyer else "SELL",
        "positionSide": POSITION_SIDE,
        "symbol": spec.symbol,
        "time": fill.time,
    }
