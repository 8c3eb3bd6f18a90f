from __future__ import annotations

import pytest

from loadtests.feedwatch import (
    FEED_LAG_US,
    feed_stats,
    record_event,
    record_liquidations,
)
from loadtests.metrics import Tally

T0_MS = 1_760_130_900_000
"""2025-10-10 21:15:00 UTC, in milliseconds."""


def test_lag_is_receive_time_minus_the_exchanges_event_time() -> None:
    tally = Tally()
    record_event(tally, event_time_ms=T0_MS, received_at=T0_MS / 1000 + 0.120)
    stats = feed_stats([tally])
    assert stats.events == 1
    assert stats.lag_ms is not None
    assert stats.lag_ms.p50 == pytest.approx(120, rel=1e-3)


def test_a_lag_below_zero_is_counted_as_clock_skew_and_recorded_as_zero() -> None:
    tally = Tally()
    record_event(tally, event_time_ms=T0_MS, received_at=T0_MS / 1000 - 0.005)
    stats = feed_stats([tally])
    assert stats.negative_lags == 1
    assert stats.lag_ms is not None and stats.lag_ms.max == 0
    assert tally.total(FEED_LAG_US) == 1


def test_completeness_is_events_seen_over_true_liquidations_per_symbol_and_overall() -> None:
    btc, eth = Tally(), Tally()
    for second in range(10):  # one pushed event per second, as Binance throttles the feed
        record_event(btc, event_time_ms=T0_MS + second * 1000, received_at=T0_MS / 1000 + second)
    record_liquidations(btc, 400)
    record_liquidations(btc, 100)
    for second in range(3):
        record_event(eth, event_time_ms=T0_MS + second * 1000, received_at=T0_MS / 1000 + second)
    record_liquidations(eth, 6)

    assert feed_stats([btc]).completeness == pytest.approx(10 / 500)
    assert feed_stats([eth]).completeness == pytest.approx(3 / 6)
    overall = feed_stats([btc, eth])
    assert (overall.events, overall.liquidations) == (13, 506)
    assert overall.completeness == pytest.approx(13 / 506)
    # Pooling leaves the per-symbol tallies as they were.
    assert feed_stats([btc]).events == 10


def test_completeness_is_unknown_when_nothing_was_liquidated() -> None:
    tally = Tally()
    record_event(tally, event_time_ms=T0_MS, received_at=T0_MS / 1000)
    assert feed_stats([tally]).completeness is None
    assert feed_stats([]).lag_ms is None


def test_a_truth_count_cannot_shrink() -> None:
    with pytest.raises(ValueError, match="only grows"):
        record_liquidations(Tally(), -1)
