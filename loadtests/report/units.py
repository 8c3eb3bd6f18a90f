"""Numbers as the report prints them: two or three significant digits, with their unit.

A capacity report is read by people deciding on hardware; 1,234.5678 req/s claims a precision
no load test has, and 0.000523 makes the reader count zeros. Every figure the report, its
headline and `stampede compare` print goes through here, so they agree with each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

SMALLEST_SHARE = 1e-5
"""Shares below this (0.001%) print as "<0.001%" rather than in exponent notation."""


def num(value: float) -> str:
    """Whole numbers with separators from 100 up, three significant digits below."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def multiple(value: float) -> str:
    """A load multiple of the baseline: 20×, 2.5×."""
    return f"{num(value)}×"


def share(value: float) -> str:
    """A fraction as a percentage: 0.0042 → 0.42%, 0.25 → 25%."""
    if value == 0:
        return "0%"
    if 0 < value < SMALLEST_SHARE:
        return "<0.001%"
    percent = value * 100
    if percent >= 10:
        return f"{percent:.0f}%"
    return f"{percent:.2g}%"


def cpu(percent: float) -> str:
    """A CPU figure as the report prints it: 97%, 4.5%."""
    return share(percent / 100)


def millis(value: float) -> str:
    """A duration given in milliseconds: "320 ms", "2.4 s"."""
    if value >= 1000:
        return f"{num(value / 1000)} s"
    return f"{num(value)} ms"


def measure(value: float, unit: str) -> str:
    """A value in an SLO's unit: "ms" for durations, "share" for fractions."""
    return millis(value) if unit == "ms" else share(value)


def seconds(value: float) -> str:
    """A duration given in seconds, as `millis` prints it: "250 ms", "10 s"."""
    return millis(value * 1000)


def moment(epoch_s: float) -> str:
    """A wall-clock instant in UTC, to the second: "2025-10-10 21:20:00 UTC"."""
    return f"{datetime.fromtimestamp(epoch_s, UTC):%Y-%m-%d %H:%M:%S} UTC"


def money(amount: Decimal, asset: str) -> str:
    """An amount in its asset, to the last place the venue keeps, with separators:
    "30,130,938,662.57000000 USDT". Never rounded: a conservation audit is exact, and a
    difference in the eighth place is a unit lost."""
    return f"{amount:,f} {asset}"  # "f": a zero to eight places is 0.00000000, not 0E-8


def rate(value: float, unit: str = "req/s") -> str:
    return f"{num(value)} {unit}"


def change(before: float, after: float) -> str:
    """How far `after` moved from `before`: "+85%", "−40%", or "±0%"; "new" from zero."""
    if before == 0:
        return "±0%" if after == 0 else "new"
    moved = (after - before) / abs(before)
    if round(moved * 100) == 0:
        return "±0%"
    sign = "+" if moved > 0 else "−"
    return f"{sign}{share(abs(moved))}"


def span(low: float, high: float | None, unit: str) -> str:
    """An interval in an SLO's unit, its unit once where both ends share it: "0.7-1.6%",
    "4.2-4.9 s", "820 ms-1.1 s"; "≥ 3.2 s" when it has no upper end."""
    if high is None:
        return f"≥ {measure(low, unit)}"
    ends = measure(low, unit), measure(high, unit)
    units = {end.rpartition(" ")[2] if " " in end else "%" for end in ends}
    if len(units) == 1:
        suffix = units.pop()
        return f"{ends[0].removesuffix(suffix).rstrip()}-{ends[1]}"
    return f"{ends[0]}-{ends[1]}"


def estimate_text(value: float, low: float, high: float | None, unit: str) -> str:
    """A value with its interval: "1.2% (0.7-1.6%)"."""
    return f"{measure(value, unit)} ({span(low, high, unit)})"


def listed(names: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
