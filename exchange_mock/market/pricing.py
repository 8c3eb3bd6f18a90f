"""The oracle's arithmetic, pure: index, premium, funding, mark, collateral price.

Each function is the rule as Binance states it (see the cascade model), so the difference
between the two oracle modes is visible in one place: the `spot` design reads one book; the
`index` design caps every venue near the others, drops the stale ones, averages the premium
over 30 s and takes a median of three independent components.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Sequence

from exchange_mock.market.venues import OracleRules, VenueQuote
from exchange_mock.types import Millis


def index_price(
    quotes: Sequence[VenueQuote], now_ms: Millis, cap: float, stale_after_ms: int
) -> float | None:
    """The weighted price of the live venues, each first clamped within ±`cap` of their
    median; None when every venue is stale."""
    live = [q for q in quotes if q.weight > 0 and now_ms - q.updated_ms <= stale_after_ms]
    if not live:
        return None
    middle = statistics.median(q.price for q in live)
    low, high = middle * (1 - cap), middle * (1 + cap)
    total = sum(q.weight for q in live)
    return sum(min(max(q.price, low), high) * q.weight for q in live) / total


def funding_rate(premium: float, rules: OracleRules) -> float:
    """Binance's rate from the interval's average premium: P + clamp(I − P, ±clamp), capped."""
    interest, clamp = float(rules.interest_rate), float(rules.funding_clamp)
    cap = float(rules.funding_cap)
    rate = premium + min(max(interest - premium, -clamp), clamp)
    return min(max(rate, -cap), cap)


def median_mark(p1: float, p2: float, last: float | None) -> float:
    """The median of the three components; of the two when nothing has traded."""
    if last is None:
        return (p1 + p2) / 2
    return sorted((p1, p2, last))[1]


def collateral_index_price(index: float, floor: float, redemption: float) -> float:
    """A synthetic asset in `index` mode: its venues' capped index, but never above what it
    redeems for nor below the floor."""
    return min(max(index, floor), redemption)


class MarkModel:
    """One perpetual's mark in `index` mode, with the state its averages need: the last 30
    one-second samples of (mid − index) for P2, and the premium average of the current funding
    interval for the rate in P1 and for the funding charged when the interval ends.

    The interval is the rules' unless given (a run compressing time shortens it)."""

    def __init__(self, rules: OracleRules, interval_ms: int | None = None) -> None:
        self._rules = rules
        self.interval_ms = interval_ms or rules.funding_interval_ms
        self._basis: deque[float] = deque(maxlen=rules.premium_samples)
        self._sampled_ms: Millis | None = None
        self._interval: int | None = None
        self._premium_sum = 0.0
        self._premium_count = 0
        self.funding = 0.0

    def observe(
        self, now_ms: Millis, index: float, mid: float | None
    ) -> tuple[Millis, float] | None:
        """Take a sample when one is due: the book's mid against the index (no book: none).
        The first sample of a new funding interval returns the one that ended, as (its end,
        its rate): what is charged for it, as on Binance to whoever holds a position then,
        even for an interval this model saw only the end of."""
        rules = self._rules
        if self._sampled_ms is not None and now_ms - self._sampled_ms < rules.sample_interval_ms:
            return None
        self._sampled_ms = now_ms
        interval = now_ms // self.interval_ms
        ended = None
        if interval != self._interval:
            if self._interval is not None:
                ended = ((self._interval + 1) * self.interval_ms, self.funding)
            self._interval, self._premium_sum, self._premium_count = interval, 0.0, 0
        basis = 0.0 if mid is None else mid - index
        self._basis.append(basis)
        self._premium_sum += basis / index
        self._premium_count += 1
        self.funding = funding_rate(self._premium_sum / self._premium_count, rules)
        return ended

    def mark(self, now_ms: Millis, index: float, last: float | None) -> float:
        """median(index × (1 + funding × time to funding / interval), index + average basis,
        last price)."""
        interval = self.interval_ms
        to_funding = interval - now_ms % interval
        p1 = index * (1 + self.funding * to_funding / interval)
        p2 = index + (sum(self._basis) / len(self._basis) if self._basis else 0.0)
        return median_mark(p1, p2, last)
