"""Explicit converters from the feed's records to Binance's WebSocket JSON: the one place the
streams' field names live (the REST ones live in `api/wire/`; both share `formats.py`, so a
price reads the same on both).

`E` is always a time from the journal (when the engine decided), never the time of sending: the
delay a client sees is the feed's real lag.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from exchange_mock.domain.events import MarginCallIssued, OrderSnapshot
from exchange_mock.feeds.marks import Mark
from exchange_mock.feeds.throttle import Liquidation
from exchange_mock.formats import (
    MARGIN_ASSET,
    POSITION_SIDE,
    ZERO,
    JsonObject,
    agg_trade,
    cash_str,
    next_funding_time,
    price_change,
    price_or_zero,
    unit_price,
)
from exchange_mock.store.views import BarView, TickerView, TradeView
from exchange_mock.symbols import SymbolSpec, SymbolTable
from exchange_mock.trade_stats import MINUTE_MS
from exchange_mock.types import Cash, Lots, Millis, OrderType, Ticks, TimeInForce

LIQUIDATION_CLIENT_ID = "autoclose-"
"""How Binance names liquidation orders to their owner."""
_PRICE_PLACES = 8


def _price8(spec: SymbolSpec, ticks: Ticks) -> str:
    """Mark prices go out with eight places, as Binance sends them on the streams."""
    return f"{spec.price(ticks):.{_PRICE_PLACES}f}"


# -- market streams -------------------------------------------------------------------------


def mark_price_update(spec: SymbolSpec, mark: Mark, funding_interval_ms: int) -> JsonObject:
    """`markPriceUpdate`. The index also stands for the estimated settlement price (for a
    perpetual, an estimate of the index); the mark stands for both where the engine published
    no index. `T` is the end of the funding interval the mark falls in (0 for a dated contract,
    which pays no funding: its `r` is 0 too)."""
    index = _price8(spec, mark.price if mark.index is None else mark.index)
    return {
        "e": "markPriceUpdate",
        "E": mark.time,
        "s": spec.symbol,
        "p": _price8(spec, mark.price),
        "i": index,
        "P": index,
        # A rate in 1e-8 units has the scale of cash, so it prints the same way.
        "r": cash_str(mark.funding_rate),
        "T": next_funding_time(mark.time, funding_interval_ms) if spec.funds else 0,
    }


def depth_update(
    spec: SymbolSpec,
    first: int,
    last: int,
    time: Millis,
    bids: Sequence[tuple[Ticks, Lots]],
    asks: Sequence[tuple[Ticks, Lots]],
) -> JsonObject:
    """`depthUpdate`, for the diff and the partial book streams alike: `U`..`u` the book update
    ids the event spans, `pu` the id before them."""
    price, qty = spec.price_str, spec.qty_str
    return {
        "e": "depthUpdate",
        "E": time,
        "T": time,
        "s": spec.symbol,
        "U": first,
        "u": last,
        "pu": first - 1,
        "b": [[price(ticks), qty(lots)] for ticks, lots in bids],
        "a": [[price(ticks), qty(lots)] for ticks, lots in asks],
    }


def book_ticker(
    spec: SymbolSpec,
    update_id: int,
    bid: tuple[Ticks, Lots] | None,
    ask: tuple[Ticks, Lots] | None,
    time: Millis,
) -> JsonObject:
    """`bookTicker`; an empty side shows Binance's zeros, as the REST book ticker does."""
    bid_price, bid_qty = bid or (0, 0)
    ask_price, ask_qty = ask or (0, 0)
    return {
        "e": "bookTicker",
        "u": update_id,
        "E": time,
        "T": time,
        "s": spec.symbol,
        "b": spec.price_str(bid_price),
        "B": spec.qty_str(bid_qty),
        "a": spec.price_str(ask_price),
        "A": spec.qty_str(ask_qty),
    }


def agg_trade_update(spec: SymbolSpec, fills: Sequence[TradeView]) -> JsonObject:
    """`aggTrade`: the REST aggregate's fields, stamped with its last fill's time."""
    return {"e": "aggTrade", "E": fills[-1].time, "s": spec.symbol, **agg_trade(spec, fills)}


def kline(
    spec: SymbolSpec, bar: BarView, first_id: int, last_id: int, closed: bool, time: Millis
) -> JsonObject:
    """`kline` of the one-minute bar; `f`/`L` the first and last trade ids in it."""
    price, qty = spec.price_str, spec.qty_str
    return {
        "e": "kline",
        "E": time,
        "s": spec.symbol,
        "k": {
            "t": bar.open_time,
            "T": bar.open_time + MINUTE_MS - 1,
            "s": spec.symbol,
            "i": "1m",
            "f": first_id,
            "L": last_id,
            "o": price(bar.open),
            "c": price(bar.close),
            "h": price(bar.high),
            "l": price(bar.low),
            "v": qty(bar.volume),
            "n": bar.count,
            "x": closed,
            "q": cash_str(bar.quote_volume),
            "V": qty(bar.taker_buy_volume),
            "Q": cash_str(bar.taker_buy_quote),
            "B": ZERO,
        },
    }


def ticker(spec: SymbolSpec, view: TickerView, last_qty: Lots) -> JsonObject:
    """`24hrTicker`, the REST ticker's figures (`Q`: the last trade's size)."""
    change, percent = price_change(spec, view)
    return {
        "e": "24hrTicker",
        "E": view.close_time,
        "s": spec.symbol,
        "p": change,
        "P": percent,
        "w": unit_price(spec, view.quote_volume, view.volume),
        "c": price_or_zero(spec, view.last_price),
        "Q": spec.qty_str(last_qty),
        "o": price_or_zero(spec, view.open_price),
        "h": price_or_zero(spec, view.high_price),
        "l": price_or_zero(spec, view.low_price),
        "v": spec.qty_str(view.volume),
        "q": cash_str(view.quote_volume),
        "O": view.open_time,
        "C": view.close_time,
        "F": view.first_trade_id,
        "L": view.last_trade_id,
        "n": view.count,
    }


def mini_ticker(spec: SymbolSpec, view: TickerView) -> JsonObject:
    return {
        "e": "24hrMiniTicker",
        "E": view.close_time,
        "s": spec.symbol,
        "c": price_or_zero(spec, view.last_price),
        "o": price_or_zero(spec, view.open_price),
        "h": price_or_zero(spec, view.high_price),
        "l": price_or_zero(spec, view.low_price),
        "v": spec.qty_str(view.volume),
        "q": cash_str(view.quote_volume),
    }


def force_order(spec: SymbolSpec, liquidation: Liquidation) -> JsonObject:
    filled = spec.qty_str(liquidation.filled)
    return {
        "e": "forceOrder",
        "E": liquidation.time,
        "o": {
            "s": spec.symbol,
            "S": liquidation.side.value,
            "o": "LIMIT",
            "f": TimeInForce.IOC.value,
            "q": spec.qty_str(liquidation.qty),
            "p": spec.price_str(liquidation.price),
            "ap": unit_price(spec, liquidation.cum_quote, liquidation.filled),
            "X": "FILLED",
            "l": filled,
            "z": filled,
            "T": liquidation.time,
        },
    }


# -- user data ------------------------------------------------------------------------------


class Fill(NamedTuple):
    """The fill an ORDER_TRADE_UPDATE reports (`l`, `L`, `t`, `m`, `n`, `rp`)."""

    qty: Lots
    price: Ticks
    trade_id: int
    maker: bool
    fee: Cash
    realized: Cash


def client_order_id(order: OrderSnapshot) -> str:
    """The client id the owner sees: liquidation orders always read `autoclose-…`."""
    if order.type is OrderType.LIQUIDATION and not order.client_order_id.startswith(
        LIQUIDATION_CLIENT_ID
    ):
        return f"{LIQUIDATION_CLIENT_ID}{order.order_id}"
    return order.client_order_id


def order_trade_update(
    spec: SymbolSpec, order: OrderSnapshot, execution: str, fill: Fill | None, time: Millis
) -> JsonObject:
    """ORDER_TRADE_UPDATE for `order` as it stood after `execution` (NEW, TRADE, CALCULATED for
    a liquidation's fills, CANCELED, EXPIRED)."""
    kind = order.type.value
    return {
        "e": "ORDER_TRADE_UPDATE",
        "E": time,
        "T": time,
        "o": {
            "s": spec.symbol,
            "c": client_order_id(order),
            "S": order.side.value,
            "o": kind,
            "f": (order.time_in_force or TimeInForce.GTC).value,
            "q": spec.qty_str(order.qty),
            "p": ZERO if order.price is None else spec.price_str(order.price),
            "ap": unit_price(spec, order.cum_quote, order.executed_qty),
            "sp": ZERO,
            "x": execution,
            "X": order.status.value,
            "i": order.order_id,
            "l": ZERO if fill is None else spec.qty_str(fill.qty),
            "z": spec.qty_str(order.executed_qty),
            "L": ZERO if fill is None else spec.price_str(fill.price),
            "N": MARGIN_ASSET,
            "n": cash_str(0 if fill is None else fill.fee),
            "T": time,
            "t": 0 if fill is None else fill.trade_id,
            "b": ZERO,
            "a": ZERO,
            "m": fill is not None and fill.maker,
            "R": order.reduce_only,
            "wt": "CONTRACT_PRICE",
            "ot": kind,
            "ps": POSITION_SIDE,
            "cp": False,
            "rp": cash_str(0 if fill is None else fill.realized),
            "pP": False,
            "si": 0,
            "ss": 0,
            "V": "NONE",
            "pm": "NONE",
            "gtd": 0,
        },
    }


class PositionState(NamedTuple):
    spec: SymbolSpec
    qty: Lots
    cost: Cash
    mark: Ticks


class BalanceState(NamedTuple):
    wallet: Cash
    change: Cash
    """Balance change other than PnL and fees (a deposit's amount), Binance's `bc`."""


def account_update(
    reason: str, balance: BalanceState | None, positions: list[PositionState], time: Millis
) -> JsonObject:
    """ACCOUNT_UPDATE with the balance and positions one command changed. The accumulated
    realized PnL of a position (`cr`) is not tracked and reads 0."""
    return {
        "e": "ACCOUNT_UPDATE",
        "E": time,
        "T": time,
        "a": {
            "m": reason,
            "B": []
            if balance is None
            else [
                {
                    "a": MARGIN_ASSET,
                    "wb": cash_str(balance.wallet),
                    "cw": cash_str(balance.wallet),
                    "bc": cash_str(balance.change),
                }
            ],
            "P": [_position(p) for p in positions],
        },
    }


def _position(p: PositionState) -> JsonObject:
    entry = unit_price(p.spec, p.cost, p.qty)
    return {
        "s": p.spec.symbol,
        "pa": p.spec.qty_str(p.qty),
        "ep": entry,
        "bep": entry,
        "cr": ZERO,
        "up": cash_str(p.spec.notional(p.mark, p.qty) - p.cost),
        "mt": "cross",
        "iw": ZERO,
        "ps": POSITION_SIDE,
    }


def margin_call(symbols: SymbolTable, call: MarginCallIssued) -> JsonObject:
    """MARGIN_CALL: the account's cross wallet and every position it holds, valued at the
    marks that put it past the margin-call level."""
    positions = []
    for held in call.positions:
        spec = symbols.by_name[held.symbol]
        positions.append(
            {
                "s": spec.symbol,
                "ps": POSITION_SIDE,
                "pa": spec.qty_str(held.qty),
                "mt": "CROSSED",
                "iw": ZERO,
                "mp": _price8(spec, held.mark),
                "up": cash_str(held.unrealized_pnl),
                "mm": cash_str(held.maintenance_margin),
            }
        )
    return {"e": "MARGIN_CALL", "E": call.ts, "cw": cash_str(call.wallet), "p": positions}


def account_config_update(symbol: str, leverage: int, time: Millis) -> JsonObject:
    return {"e": "ACCOUNT_CONFIG_UPDATE", "E": time, "T": time, "ac": {"s": symbol, "l": leverage}}


LISTEN_KEY_EXPIRED = b'{"e":"listenKeyExpired"'
"""How a listenKeyExpired message starts once encoded, so a relay can spot it unparsed."""


def listen_key_expired(key: str, time: Millis) -> JsonObject:
    return {"e": "listenKeyExpired", "E": time, "listenKey": key}
