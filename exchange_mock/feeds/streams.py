"""Binance's WebSocket stream names, built and normalized in one place.

A market stream is `<symbol>@<kind>` with the symbol in lower case (`btcusdt@markPrice@1s`), or
an all-market stream starting with `!` (`!forceOrder@arr`); a user-data stream is the bare
listen key. Clients send symbols in either case, so names are normalized before they become
channel names: `BTCUSDT@markPrice` and `btcusdt@markPrice` are the same subscription.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ALL_MARK_PRICES = "!markPrice@arr"
ALL_FORCE_ORDERS = "!forceOrder@arr"
ALL_BOOK_TICKERS = "!bookTicker"
ALL_TICKERS = "!ticker@arr"
ALL_MINI_TICKERS = "!miniTicker@arr"
FAST = "@1s"
"""The suffix of the once-a-second variant of the mark price streams."""

DEPTH_SPEEDS = {100: "@100ms", 250: "", 500: "@500ms"}
"""The depth streams' windows (ms) and the suffix naming each: 250 ms is the plain name."""
PARTIAL_DEPTHS = (5, 10, 20)
"""The partial book streams' sizes."""

MAX_NAME = 200
_NAME = re.compile(rf"[A-Za-z0-9!@_.\-]{{1,{MAX_NAME}}}")
"""What a stream name may contain: also what keeps it safe to splice into JSON unescaped."""


def mark_price(symbol: str, fast: bool) -> str:
    return f"{symbol.lower()}@markPrice{FAST if fast else ''}"


def all_mark_prices(fast: bool) -> str:
    return ALL_MARK_PRICES + (FAST if fast else "")


def force_order(symbol: str) -> str:
    return f"{symbol.lower()}@forceOrder"


def depth(symbol: str, speed_ms: int, levels: int | None = None) -> str:
    """The diff stream (`levels` None) or the partial book of the best `levels`."""
    return f"{symbol.lower()}@depth{levels or ''}{DEPTH_SPEEDS[speed_ms]}"


def book_ticker(symbol: str) -> str:
    return f"{symbol.lower()}@bookTicker"


def agg_trade(symbol: str) -> str:
    return f"{symbol.lower()}@aggTrade"


def kline(symbol: str) -> str:
    """The one-minute kline stream (the only interval produced)."""
    return f"{symbol.lower()}@kline_1m"


def ticker(symbol: str) -> str:
    return f"{symbol.lower()}@ticker"


def mini_ticker(symbol: str) -> str:
    return f"{symbol.lower()}@miniTicker"


def produced(symbols: Iterable[str]) -> frozenset[str]:
    """Every market stream the feeds publish, normalized: the only ones a client may subscribe
    to, so that a client cannot make the exchange hold a subscription for any name it likes."""
    names = {ALL_FORCE_ORDERS, ALL_BOOK_TICKERS, ALL_TICKERS, ALL_MINI_TICKERS}
    names |= {all_mark_prices(fast=False), all_mark_prices(fast=True)}
    for symbol in symbols:
        names |= {mark_price(symbol, fast=False), mark_price(symbol, fast=True)}
        names |= {force_order(symbol), book_ticker(symbol), agg_trade(symbol), kline(symbol)}
        names |= {ticker(symbol), mini_ticker(symbol)}
        for speed in DEPTH_SPEEDS:
            names |= {depth(symbol, speed, levels) for levels in (None, *PARTIAL_DEPTHS)}
    return frozenset(names)


def is_valid(name: str) -> bool:
    return _NAME.fullmatch(name) is not None


def is_market(name: str) -> bool:
    """A market stream, as opposed to a listen key (which has neither `@` nor a leading `!`)."""
    return "@" in name or name.startswith("!")


def normalize(name: str) -> str:
    """The symbol part in lower case; the rest (`markPrice`, `arr`) and listen keys as sent."""
    if not is_market(name) or name.startswith("!"):
        return name
    symbol, _, rest = name.partition("@")
    return f"{symbol.lower()}@{rest}"
