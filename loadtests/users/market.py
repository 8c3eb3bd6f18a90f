"""What the users must know about the market to send orders a venue accepts: each symbol's
filters (from exchangeInfo) and a recent mark price.

Orders that fail the venue's filters would measure the harness's mistakes, not the venue, so
prices sit on the tick, quantities on the step and notionals above the minimum with room for the
price to move. Marks start from premiumIndex and follow the market-data users' reads of it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, Literal

import httpx

Side = Literal["BUY", "SELL"]

NOTIONAL_MARGIN = Decimal(2)
"""Order sizes are twice the minimum notional at the current mark, so a shock that halves the
price still leaves them valid."""
REST_DISTANCE = (0.005, 0.03)
"""How far from the mark (as a fraction) resting limit orders sit: away from the touch, so they
rest, and inside the 5% band PERCENT_PRICE allows."""


class MarketError(RuntimeError):
    """The target's exchangeInfo or marks are missing what the users need."""


def plain(value: Decimal) -> str:
    """A decimal as the venue expects it on the wire: no exponent, no trailing zeros."""
    return format(value.normalize(), "f")


@dataclass(frozen=True, slots=True)
class SymbolRules:
    symbol: str
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    min_notional: Decimal

    def price(self, value: Decimal, *, side: Side) -> Decimal:
        """`value` on the tick, rounded away from the touch: down for a bid, up for an ask."""
        rounding = ROUND_FLOOR if side == "BUY" else ROUND_CEILING
        return (value / self.tick_size).to_integral_value(rounding) * self.tick_size

    def quantity(self, mark: Decimal) -> Decimal:
        """The smallest quantity on the step that is valid at `mark` with NOTIONAL_MARGIN."""
        wanted = max(self.min_qty, self.min_notional * NOTIONAL_MARGIN / mark)
        return (wanted / self.step_size).to_integral_value(ROUND_CEILING) * self.step_size


def _filters(entry: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {f["filterType"]: f for f in entry.get("filters", ())}


def rules_from_exchange_info(
    info: Mapping[str, Any], symbols: Iterable[str]
) -> dict[str, SymbolRules]:
    """The filters of `symbols` from an exchangeInfo answer; every one must be listed."""
    listed = {entry["symbol"]: entry for entry in info.get("symbols", ())}
    rules = {}
    for symbol in symbols:
        entry = listed.get(symbol)
        if entry is None:
            raise MarketError(f"the target's exchangeInfo does not list {symbol}")
        filters = _filters(entry)
        try:
            rules[symbol] = SymbolRules(
                symbol=symbol,
                tick_size=Decimal(filters["PRICE_FILTER"]["tickSize"]),
                step_size=Decimal(filters["LOT_SIZE"]["stepSize"]),
                min_qty=Decimal(filters["LOT_SIZE"]["minQty"]),
                min_notional=Decimal(filters.get("MIN_NOTIONAL", {}).get("notional", "0")),
            )
        except KeyError as exc:
            raise MarketError(f"{symbol}: exchangeInfo lacks the {exc} filter") from exc
    return rules


class Market:
    """Symbol rules and the latest mark per symbol, shared by one process's users."""

    def __init__(self, rules: Mapping[str, SymbolRules], marks: Mapping[str, Decimal]) -> None:
        missing = set(rules) - set(marks)
        if missing:
            raise MarketError(f"no mark price for {', '.join(sorted(missing))}")
        self.rules = dict(rules)
        self.symbols = tuple(rules)
        self._marks = dict(marks)

    def mark(self, symbol: str) -> Decimal:
        return self._marks[symbol]

    def update_mark(self, symbol: str, price: Decimal) -> None:
        if symbol in self._marks and price > 0:
            self._marks[symbol] = price

    def resting_price(self, symbol: str, side: Side, rng: random.Random) -> Decimal:
        """A limit price that rests on `side` of the book, away from the touch."""
        distance = Decimal(str(round(rng.uniform(*REST_DISTANCE), 4)))
        mark = self.mark(symbol)
        target = mark * (1 - distance) if side == "BUY" else mark * (1 + distance)
        return self.rules[symbol].price(target, side=side)

    def quantity(self, symbol: str) -> Decimal:
        return self.rules[symbol].quantity(self.mark(symbol))


@dataclass(frozen=True, slots=True)
class Connection:
    """What a process learns from the target before its users start."""

    market: Market
    clock_offset_ms: int
    """Server time − local time: added to request timestamps, as careful clients do."""


def connect(http: httpx.Client, symbols: Iterable[str]) -> Connection:
    """Read exchangeInfo, each symbol's mark, and the server clock (public endpoints)."""
    wanted = tuple(symbols)
    info = _get(http, "/fapi/v1/exchangeInfo")
    rules = rules_from_exchange_info(info, wanted)
    marks = {
        symbol: Decimal(_get(http, "/fapi/v1/premiumIndex", symbol=symbol)["markPrice"])
        for symbol in wanted
    }
    before = time.time()
    server = int(_get(http, "/fapi/v1/time")["serverTime"])
    local_ms = (before + time.time()) / 2 * 1000
    return Connection(Market(rules, marks), round(server - local_ms))


def _get(http: httpx.Client, path: str, **params: str) -> Any:
    try:
        response = http.get(path, params=params)
    except httpx.HTTPError as exc:
        raise MarketError(f"{path}: the target did not answer: {exc}") from exc
    if response.status_code != 200:
        raise MarketError(f"{path}: the target answered {response.status_code}: {response.text}")
    return response.json()
