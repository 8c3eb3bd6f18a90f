from __future__ import annotations

from decimal import Decimal

import pytest

from loadtests.depthwatch import (
    TOP_OFF_TICKS,
    Top,
    depth_stats,
    record_depth_event,
    record_resync,
    record_top,
)
from loadtests.metrics import Metrics, SeriesKey, Tally

T0_MS = 1_760_130_900_000
TICK = Decimal("0.1")


def test_lag_is_receive_time_minus_event_time_and_gaps_count_apart() -> None:
    tally = Tally()
    record_depth_event(tally, event_time_ms=T0_MS, received_at=T0_MS / 1000 + 0.040)
    record_depth_event(tally, event_time_ms=T0_MS, received_at=T0_MS / 1000 + 0.060, gap=True)
    record_resync(tally)
    stats = depth_stats([tally])
    assert (stats.events, stats.gaps, stats.resyncs) == (2, 1, 1)
    assert stats.gap_rate == pytest.approx(0.5)
    assert stats.lag_ms is not None
    assert stats.lag_ms.max == pytest.approx(60, rel=1e-3)


def test_a_top_equal_to_rest_counts_as_a_sample_off_by_no_ticks() -> None:
    tally = Tally()
    top = Top(Decimal("100.0"), Decimal("100.1"))
    record_top(tally, top, Top(Decimal("100.0"), Decimal("100.1")), TICK)
    stats = depth_stats([tally])
    assert (stats.top_samples, stats.top_different, stats.top_different_rate) == (1, 0, 0)
    assert stats.top_off_ticks is not None and stats.top_off_ticks.max == 0


def test_a_differing_top_is_off_by_its_further_side_in_ticks() -> None:
    tally = Tally()
    local = Top(Decimal("99.8"), Decimal("100.1"))
    record_top(tally, local, Top(Decimal("100.0"), Decimal("100.2")), TICK)
    stats = depth_stats([tally])
    assert (stats.top_samples, stats.top_different) == (1, 1)
    assert stats.top_off_ticks is not None and stats.top_off_ticks.max == 2


def test_an_emptied_side_differs_without_a_distance() -> None:
    tally = Tally()
    record_top(tally, Top(None, Decimal("100.1")), Top(Decimal("100.0"), Decimal("100.1")), TICK)
    assert depth_stats([tally]).top_different == 1
    assert tally.total(TOP_OFF_TICKS) == 0


def test_nothing_measured_has_no_rates() -> None:
    stats = depth_stats([])
    assert stats.gap_rate is None and stats.top_different_rate is None and stats.lag_ms is None


def test_two_processes_shipments_add_up_to_one_processes_figures() -> None:
    """Workers ship deltas; the master's merge gives the figures one process would have."""
    key = SeriesKey(0, "calm", "depth_stream", "BTCUSDT")
    alone, first, second, master = Metrics(), Metrics(), Metrics(), Metrics()
    for n in range(200):
        into = first if n % 2 else second
        for metrics in (alone, into):
            tally = metrics.tally(key)
            record_depth_event(
                tally, event_time_ms=T0_MS, received_at=T0_MS / 1000 + n / 1000, gap=n % 50 == 0
            )
            local, rest = Top(Decimal(n), Decimal(999)), Top(Decimal(n + n % 3), Decimal(999))
            record_top(tally, local, rest, Decimal(1))
    master.merge(first.drain().model_dump(mode="json"))
    master.merge(second.drain())
    assert depth_stats([master.tally(key)]) == depth_stats([alone.tally(key)])
