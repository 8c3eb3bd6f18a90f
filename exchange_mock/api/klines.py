"""Klines of any interval, built from the history's one-minute bars.

Intervals are Binance's: minutes and hours open on their own multiples since the epoch, a day
at 00:00 UTC, a week on Monday and a month on its first day. A bucket without trades is a flat
kline at the close before it, as Binance shows a quiet interval; before the first bar (the
listing at genesis) there is no kline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from exchange_mock.store.views import BarView
from exchange_mock.types import Millis

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
WEEK_MS = 7 * DAY_MS
MONDAY_OFFSET_MS = 4 * DAY_MS
"""1970-01-01 was a Thursday: weeks open four days after the epoch's multiples of a week."""
MONTH = "1M"

FIXED_MS = {
    "1m": MINUTE_MS, "3m": 3 * MINUTE_MS, "5m": 5 * MINUTE_MS, "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS, "1h": HOUR_MS, "2h": 2 * HOUR_MS, "4h": 4 * HOUR_MS,
    "6h": 6 * HOUR_MS, "8h": 8 * HOUR_MS, "12h": 12 * HOUR_MS, "1d": DAY_MS, "3d": 3 * DAY_MS,
}  # fmt: skip
INTERVALS = frozenset({*FIXED_MS, "1w", MONTH})


@dataclass(frozen=True, slots=True)
class Kline:
    bar: BarView
    """The interval's trading, opening at `bar.open_time`."""
    close_time: Millis


def opening(interval: str, ts: Millis) -> Millis:
    """When the interval holding `ts` opened."""
    if interval == MONTH:
        day = datetime.fromtimestamp(ts / 1000, UTC)
        return int(datetime(day.year, day.month, 1, tzinfo=UTC).timestamp() * 1000)
    if interval == "1w":
        return ts - (ts - MONDAY_OFFSET_MS) % WEEK_MS
    return ts - ts % FIXED_MS[interval]


def following(interval: str, opened: Millis) -> Millis:
    """When the next interval opens."""
    if interval == MONTH:
        day = datetime.fromtimestamp(opened / 1000, UTC)
        year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
        return int(datetime(year, month, 1, tzinfo=UTC).timestamp() * 1000)
    return opened + (WEEK_MS if interval == "1w" else FIXED_MS[interval])


def openings(
    interval: str, start: Millis | None, end: Millis | None, limit: int, now: Millis
) -> list[Millis]:
    """The opening times Binance would answer with: `limit` intervals from the first opening
    at or after `start`, or, without `start`, the `limit` up to `end` (now by default)."""
    last = opening(interval, min(now, end) if end is not None else now)
    if start is not None:
        first = opening(interval, start)
        if first < start:
            first = following(interval, first)
        found: list[Millis] = []
        while first <= last and len(found) < limit:
            found.append(first)
            first = following(interval, first)
        return found
    found = [last]
    while len(found) < limit:
        found.append(opening(interval, found[-1] - 1))
    return found[::-1]


def klines(interval: str, opens: list[Millis], bars: Iterable[BarView]) -> list[Kline]:
    """The klines at `opens` (ascending) from minute bars (ascending, the first possibly
    before them, carrying its close forward)."""
    pending = iter(bars)
    bar = next(pending, None)
    carried: BarView | None = None
    built = []
    for opened in opens:
        closes = following(interval, opened)
        while bar is not None and bar.open_time < opened:
            carried, bar = bar, next(pending, None)
        inside = []
        while bar is not None and bar.open_time < closes:
            inside.append(bar)
            carried, bar = bar, next(pending, None)
        if inside:
            built.append(Kline(_merged(opened, inside), closes - 1))
        elif carried is not None:
            built.append(Kline(BarView.flat(opened, carried.close), closes - 1))
    return built


def _merged(opened: Millis, bars: list[BarView]) -> BarView:
    """The interval's trading from its minutes' trades; quiet minutes (the listing's among
    them) add nothing but, with no trade at all, the price they carry."""
    traded = [bar for bar in bars if bar.count]
    if not traded:
        return BarView.flat(opened, bars[-1].close)
    bars = traded
    return BarView(
        open_time=opened,
        open=bars[0].open,
        high=max(bar.high for bar in bars),
        low=min(bar.low for bar in bars),
        close=bars[-1].close,
        volume=sum(bar.volume for bar in bars),
        quote_volume=sum(bar.quote_volume for bar in bars),
        count=sum(bar.count for bar in bars),
        taker_buy_volume=sum(bar.taker_buy_volume for bar in bars),
        taker_buy_quote=sum(bar.taker_buy_quote for bar in bars),
    )
