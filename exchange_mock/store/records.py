"""How read-model records are laid out in Redis values: written by the projector and the engine
runner, read by `ReadModel`. One module, so writer and reader cannot disagree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from exchange_mock.store.views import (
    BarView,
    DepthView,
    FillView,
    FundingView,
    IncomeView,
    LiquidationView,
    MarkView,
    OpenInterestView,
    PositionView,
    TickerView,
    TradeView,
)
from exchange_mock.types import Cash, Lots, Millis, Ticks

Level = tuple[Ticks, Lots]
Raw = bytes | str
Fields = dict[bytes, bytes]
"""A Redis hash as redis-py returns it (without decode_responses)."""


def dump_balance(balance: Cash, time: Millis) -> bytes:
    return orjson.dumps([balance, time])


def load_balance(raw: Raw | None) -> tuple[Cash, Millis]:
    if raw is None:
        return 0, 0
    balance, time = orjson.loads(raw)
    return int(balance), int(time)


def dump_position(qty: Lots, cost: Cash, time: Millis) -> bytes:
    return orjson.dumps([qty, cost, time])


def load_position(symbol: str, raw: Raw) -> PositionView:
    qty, cost, time = orjson.loads(raw)
    return PositionView(symbol=symbol, qty=qty, cost=cost, update_time=time)


def dump_open_notional(bid: Cash, ask: Cash) -> bytes:
    return orjson.dumps([bid, ask])


def load_open_notional(raw: Raw) -> tuple[Cash, Cash]:
    """(bid, ask): the notional of the open orders that hold margin, on each side."""
    bid, ask = orjson.loads(raw)
    return int(bid), int(ask)


def dump_mark(
    price: Ticks, time: Millis, index: Ticks | None = None, funding_rate: int = 0
) -> bytes:
    return orjson.dumps([price, time, index, funding_rate])


def load_mark(raw: Raw | None) -> tuple[Ticks | None, Millis]:
    if raw is None:
        return None, 0
    price, time, _index, _funding = orjson.loads(raw)
    return int(price), int(time)


def load_mark_view(symbol: str, raw: Raw | None) -> MarkView:
    """The mark with the index and funding rate it came with."""
    if raw is None:
        return MarkView(symbol=symbol, price=None, time=0)
    price, time, index, funding = orjson.loads(raw)
    return MarkView(symbol, int(price), int(time), index, int(funding))


def dump_collateral_price(price: int, haircut_ppm: int, time: Millis) -> bytes:
    return orjson.dumps([price, haircut_ppm, time])


def load_collateral_price(raw: Raw) -> tuple[int, int]:
    """(price in 1e-8 USDT per unit, haircut in ppm)."""
    price, haircut, _time = orjson.loads(raw)
    return int(price), int(haircut)


LIQUIDATION_FIELDS = ("count", "notional", "time", "adl_count", "adl_notional")
"""Per-symbol fields of `p:liquidations`, as `<symbol>:<field>`, all integers."""


def load_liquidations(fields: Mapping[Any, Any]) -> dict[str, LiquidationView]:
    """The truth counter per symbol, from the `p:liquidations` hash."""
    values: dict[str, dict[str, int]] = {}
    for name, raw in fields.items():
        text = name.decode() if isinstance(name, bytes) else str(name)
        symbol, _, field_name = text.rpartition(":")
        if field_name in LIQUIDATION_FIELDS:
            values.setdefault(symbol, {})[field_name] = int(raw)
    return {
        symbol: LiquidationView(
            symbol=symbol,
            count=each.get("count", 0),
            notional=each.get("notional", 0),
            time=each.get("time", 0),
            adl_count=each.get("adl_count", 0),
            adl_notional=each.get("adl_notional", 0),
        )
        for symbol, each in sorted(values.items())
    }


def dump_depth(update_id: int, time: Millis, bids: list[Level], asks: list[Level]) -> bytes:
    return orjson.dumps({"u": update_id, "t": time, "b": bids, "a": asks})


def load_depth(raw: Raw | None, limit: int) -> DepthView:
    if raw is None:
        return DepthView(last_update_id=0, time=0, bids=[], asks=[])
    data = orjson.loads(raw)
    return DepthView(
        last_update_id=data["u"],
        time=data["t"],
        bids=[(p, q) for p, q in data["b"][:limit]],
        asks=[(p, q) for p, q in data["a"][:limit]],
    )


TICKER_FIELDS = (
    "last", "open", "high", "low", "volume", "quote_volume",
    "first_id", "last_id", "count", "open_time", "close_time", "last_qty",
)  # fmt: skip
"""Hash fields of `p:ticker:<symbol>`, all integers; the projector keeps them current."""


def parse_ticker(fields: Mapping[Any, Any]) -> dict[str, int]:
    """The ticker hash's fields that are set, as integers."""
    return {name: int(fields[name.encode()]) for name in TICKER_FIELDS if name.encode() in fields}


def load_ticker(symbol: str, fields: Mapping[Any, Any]) -> TickerView:
    return ticker_view(symbol, parse_ticker(fields))


def ticker_view(symbol: str, values: Mapping[str, int]) -> TickerView:
    """The ticker's integer fields (`TICKER_FIELDS`, those set) as the view the wire reads."""
    return TickerView(
        symbol=symbol,
        last_price=values.get("last"),
        open_price=values.get("open"),
        high_price=values.get("high"),
        low_price=values.get("low"),
        volume=values.get("volume", 0),
        quote_volume=values.get("quote_volume", 0),
        first_trade_id=values.get("first_id", -1),
        last_trade_id=values.get("last_id", -1),
        count=values.get("count", 0),
        open_time=values.get("open_time", 0),
        close_time=values.get("close_time", 0),
    )


def dump_trade(trade: TradeView) -> bytes:
    return orjson.dumps(
        [
            trade.trade_id, trade.price, trade.qty, trade.quote, trade.time,
            trade.buyer_is_maker, trade.taker_order_id,
        ]
    )  # fmt: skip


def load_trade(raw: Raw) -> TradeView:
    trade_id, price, qty, quote, time, buyer_is_maker, taker = orjson.loads(raw)
    return TradeView(trade_id, price, qty, quote, time, bool(buyer_is_maker), taker)


def dump_bar(bar: BarView) -> bytes:
    return orjson.dumps(
        [
            bar.open_time, bar.open, bar.high, bar.low, bar.close, bar.volume,
            bar.quote_volume, bar.count, bar.taker_buy_volume, bar.taker_buy_quote,
        ]
    )  # fmt: skip


def load_bar(raw: Raw) -> BarView:
    return BarView(*(int(value) for value in orjson.loads(raw)))


def dump_fill(fill: FillView) -> bytes:
    return orjson.dumps(
        [
            fill.trade_id, fill.order_id, fill.price, fill.qty, fill.quote, fill.commission,
            fill.realized_pnl, fill.buyer, fill.maker, fill.time,
        ]
    )  # fmt: skip


def load_fill(raw: Raw) -> FillView:
    trade_id, order_id, price, qty, quote, commission, realized, buyer, maker, time = orjson.loads(
        raw
    )
    return FillView(
        trade_id, order_id, price, qty, quote, commission, realized, bool(buyer), bool(maker), time
    )


def dump_income(income: IncomeView) -> bytes:
    return orjson.dumps(
        [
            income.tran_id, income.income_type, income.amount, income.symbol, income.time,
            income.trade_id,
        ]
    )  # fmt: skip


def load_income(raw: Raw) -> IncomeView:
    tran_id, income_type, amount, symbol, time, trade_id = orjson.loads(raw)
    return IncomeView(tran_id, income_type, amount, symbol, time, trade_id)


def dump_funding(funding: FundingView) -> bytes:
    return orjson.dumps([funding.funding_time, funding.rate, funding.mark])


def load_funding(raw: Raw) -> FundingView:
    funding_time, rate, mark = orjson.loads(raw)
    return FundingView(funding_time, rate, mark)


def dump_open_interest(view: OpenInterestView) -> bytes:
    return orjson.dumps([view.time, view.lots, view.value])


def load_open_interest(raw: Raw | None) -> OpenInterestView:
    if raw is None:
        return OpenInterestView(0, 0, 0)
    time, lots, value = orjson.loads(raw)
    return OpenInterestView(time, lots, value)
