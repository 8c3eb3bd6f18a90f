"""Binance's formats for the figures both the REST answers (`api/wire/`) and the streams
(`feeds/payloads.py`) send, so a price or an amount of cash reads the same on both."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from exchange_mock.settings import FUNDING_INTERVAL_MS
from exchange_mock.store.views import TickerView, TradeView
from exchange_mock.symbols import SymbolSpec
from exchange_mock.types import CASH_SCALE, Cash, Lots, Millis, Ticks

JsonObject = dict[str, Any]

ZERO = "0"
MARGIN_ASSET = "USDT"
POSITION_SIDE = "BOTH"
"""One-way position mode is the only mode: the position side is always BOTH."""
_CASH_PLACES = len(str(CASH_SCALE)) - 1
_CASH_ZERO = f"0.{0:0{_CASH_PLACES}d}"


def cash_str(amount: Cash) -> str:
    """Cash as Binance's 8-place decimal string, by integer arithmetic: `str()` of a Decimal
    prints zero and amounts under 1e-6 in exponent notation ("0E-8"), which is not Binance's."""
    if not amount:
        return _CASH_ZERO  # most of an account's figures, on most reads
    whole, fraction = divmod(abs(amount), CASH_SCALE)
    return f"{'-' if amount < 0 else ''}{whole}.{fraction:0{_CASH_PLACES}d}"


def unit_price(spec: SymbolSpec, amount: Cash, lots: Lots) -> str:
    """Cash per unit of size as a price (average fill, entry, VWAP), to eight places, since it
    is generally not a whole number of ticks."""
    if lots == 0:
        return ZERO
    return f"{Decimal(amount) / (lots * spec.step_size * CASH_SCALE):.8f}"


def mark_ticks(spec: SymbolSpec, mark: Ticks | None) -> Ticks:
    """The mark, or the contract's reference price before the first mark is published."""
    if mark is not None:
        return mark
    return spec.ticks(spec.reference_price) or 0


def price_or_zero(spec: SymbolSpec, ticks: Ticks | None) -> str:
    """No trade yet: Binance's zero price."""
    return spec.price_str(0 if ticks is None else ticks)


def price_change(spec: SymbolSpec, view: TickerView) -> tuple[str, str]:
    """The ticker's price change since its open, and in percent (three places)."""
    change, percent = 0, Decimal(0)
    if view.last_price is not None and view.open_price:
        change = view.last_price - view.open_price
        percent = Decimal(change * 100) / view.open_price
    return spec.price_str(change), str(percent.quantize(Decimal("0.001")))


def next_funding_time(now: Millis, interval_ms: int = FUNDING_INTERVAL_MS) -> Millis:
    """The end of the funding interval `now` is in: intervals are aligned on multiples of
    their length since the epoch (at 8 hours, the next 00:00, 08:00 or 16:00 UTC)."""
    return (now // interval_ms + 1) * interval_ms


def agg_trade(spec: SymbolSpec, fills: Sequence[TradeView]) -> JsonObject:
    """One taker order's consecutive fills at one price, named by its first trade's id."""
    first, last = fills[0], fills[-1]
    return {
        "a": first.trade_id,
        "p": spec.price_str(first.price),
        "q": spec.qty_str(sum(fill.qty for fill in fills)),
        "f": first.trade_id,
        "l": last.trade_id,
        "T": first.time,
        "m": first.buyer_is_maker,
    }


def aggregated(trades: Sequence[TradeView]) -> list[list[TradeView]]:
    """Trades (oldest first) grouped as Binance aggregates them: consecutive fills of one
    taker order at one price."""
    groups: list[list[TradeView]] = []
    for trade in trades:
        if groups and (groups[-1][-1].taker_order_id, groups[-1][-1].price) == (
            trade.taker_order_id,
            trade.price,
        ):
            groups[-1].append(trade)
        else:
            groups.append([trade])
    return groups
