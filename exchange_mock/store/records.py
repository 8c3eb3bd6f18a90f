"""How read-model records are laid out in Redis values: written by the projector and the engine
runner, read by `ReadModel`. One module, so writer and reader cannot disagree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from exchange_mock.store.views import DepthView, PositionView, TickerView
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


def dump_mark(price: Ticks, time: Millis) -> bytes:
    return orjson.dumps([price, time])


def load_mark(raw: Raw | None) -> tuple[Ticks | None, Millis]:
    if raw is None:
        return None, 0
    price, time = orjson.loads(raw)
    return int(price), int(time)


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
    "first_id", "last_id", "count", "open_time", "close_time",
)  # fmt: skip
"""Hash fields of `p:ticker:<symbol>`, all integers; the projector keeps them current."""


def parse_ticker(fields: Mapping[Any, Any]) -> dict[str, int]:
    """The ticker hash's fields that are set, as integers."""
    return {name: int(fields[name.encode()]) for name in TICKER_FIELDS if name.encode() in fields}


def load_ticker(symbol: str, fields: Mapping[Any, Any]) -> TickerView:
    values = parse_ticker(fields)
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
