"""The liquidation feed: how late its events arrive, and how many liquidations it shows at all.

Lag = receive time (this machine's wall clock) − the event time the exchange stamps (`E`, in
ms). The two clocks are different machines' clocks: a lag below zero is recorded as 0 and
counted, so a report can tell a skewed clock from a fast feed.

Completeness = events seen ÷ true liquidations, the truth coming from the mock's counter or, on
other targets, from the probe accounts' own liquidations. Binance pushes only each symbol's
latest liquidation per 1000 ms, so in a cascade completeness falls far below 1 by design: how far
is what a trader watching the feed was not shown.

Tallies are kept per symbol (the `symbol` of a `SeriesKey` in the `feed` series); the overall
figures pool them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from loadtests.metrics import Percentiles, Tally

FEED = "feed"
"""The series liquidation-feed tallies are kept under."""

FEED_EVENTS = "feed_events"
LIQUIDATIONS = "liquidations"
NEGATIVE_LAGS = "negative_lags"
FEED_LAG_US = "feed_lag_us"


def record_event(tally: Tally, *, event_time_ms: int, received_at: float) -> None:
    """One liquidation event, stamped `event_time_ms` by the exchange and received at
    `received_at` (seconds since the epoch)."""
    lag_us = received_at * 1e6 - event_time_ms * 1e3
    tally.count(FEED_EVENTS)
    if lag_us < 0:
        tally.count(NEGATIVE_LAGS)
    tally.observe(FEED_LAG_US, lag_us)


def record_liquidations(tally: Tally, count: int) -> None:
    """`count` more liquidations really happened (a delta of the truth counter)."""
    if count < 0:
        raise ValueError(f"a truth count only grows, not by {count}")
    tally.count(LIQUIDATIONS, count)


@dataclass(frozen=True, slots=True)
class FeedStats:
    events: int
    liquidations: int
    negative_lags: int
    lag_ms: Percentiles | None

    @property
    def completeness(self) -> float | None:
        """Events seen ÷ true liquidations; None when nothing was liquidated."""
        return self.events / self.liquidations if self.liquidations else None


def feed_stats(tallies: Iterable[Tally]) -> FeedStats:
    """The feed's figures over `tallies`: one symbol's, or every symbol's for the overall view."""
    pooled = Tally.combine(tallies)
    return FeedStats(
        events=pooled.counts.get(FEED_EVENTS, 0),
        liquidations=pooled.counts.get(LIQUIDATIONS, 0),
        negative_lags=pooled.counts.get(NEGATIVE_LAGS, 0),
        lag_ms=pooled.percentiles(FEED_LAG_US, unit=1000),
    )
