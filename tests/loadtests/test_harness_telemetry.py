"""The harness's Prometheus metrics, read from a run's merged measurements at each scrape."""

from __future__ import annotations

import math
from collections.abc import Iterable

import pytest
from locust.env import Environment
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric

from loadtests.coordinator import ActiveRun, coordinator_of
from loadtests.depthwatch import DEPTH, record_depth_event, record_resync
from loadtests.feedwatch import FEED, record_event, record_liquidations
from loadtests.metrics import Metrics, Outcome, SeriesKey, record_request
from loadtests.staleness import INCONSISTENT_READS, READS, STALE_AGE_US, STALE_READS
from loadtests.telemetry import HarnessCollector, run_families
from tests.loadtests.fakes import two_phase_plan

CALM, SURGE = (0, "calm"), (1, "surge")


class Families:
    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> list[Metric]:
        return self._families


def scrape(metrics: Metrics, elapsed: float, users: int = 7) -> CollectorRegistry:
    plan = two_phase_plan(origin=1000)
    registry = CollectorRegistry(auto_describe=False)
    families = run_families(metrics, plan.timeline(), ("BTCUSDT",), elapsed=elapsed, users=users)
    registry.register(Families(families))
    return registry


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    found = registry.get_sample_value(name, labels)
    assert found is not None, f"{name}{labels} not exported"
    return found


def measured() -> Metrics:
    metrics = Metrics()
    calm = metrics.tally(SeriesKey(*CALM, "orders"))
    for _ in range(4):
        record_request(calm, Outcome.SUCCESS, intended=1.0, sent=1.0, done=1.004)
    surge = metrics.tally(SeriesKey(*SURGE, "orders"))
    record_request(surge, Outcome.SUCCESS, intended=2.0, sent=2.0, done=2.02)
    record_request(surge, Outcome.TIMEOUT_408, intended=3.0, sent=4.7, done=9.5)
    queries = metrics.tally(SeriesKey(*SURGE, "queries"))
    queries.count(READS, 10)
    queries.count(STALE_READS, 3)
    queries.count(INCONSISTENT_READS, 1)
    queries.observe(STALE_AGE_US, 300_000)
    feed = metrics.tally(SeriesKey(*SURGE, FEED, "BTCUSDT"))
    record_event(feed, event_time_ms=10_000, received_at=10.2)
    record_liquidations(feed, 4)
    marks = metrics.tally(SeriesKey(*SURGE, "mark_price", "BTCUSDT"))
    record_event(marks, event_time_ms=10_000, received_at=10.05)
    return metrics


def test_requests_add_up_over_steps_by_class_and_outcome() -> None:
    registry = scrape(measured(), elapsed=15)
    total = "stampede_harness_requests_total"
    assert value(registry, total, **{"class": "orders", "outcome": "success"}) == 5
    assert value(registry, total, **{"class": "orders", "outcome": "timeout_408"}) == 1
    # Every outcome of every class exists from the start, so a rate over it is always defined.
    assert value(registry, total, **{"class": "market_data", "outcome": "banned_418"}) == 0
    assert value(registry, "stampede_harness_late_sends_total", **{"class": "orders"}) == 1


def test_latency_buckets_hold_the_hdr_histograms_corrected_and_raw() -> None:
    registry = scrape(measured(), elapsed=15)
    bucket = "stampede_harness_request_duration_seconds_bucket"
    corrected = {"class": "orders", "latency": "corrected"}
    raw = {"class": "orders", "latency": "raw"}
    assert value(registry, bucket, **corrected, le="0.005") == 4
    assert value(registry, bucket, **corrected, le="0.025") == 5
    # The timed-out order: 6.5 s from its intended send, 4.8 s from the actual one.
    assert value(registry, bucket, **corrected, le="5.0") == 5
    assert value(registry, bucket, **corrected, le="10.0") == 6
    assert value(registry, bucket, **raw, le="5.0") == 6
    assert value(registry, bucket, **corrected, le="+Inf") == 6
    count = value(registry, "stampede_harness_request_duration_seconds_count", **corrected)
    assert count == 6
    assert value(registry, "stampede_harness_request_duration_seconds_sum", **corrected) == (
        pytest.approx(4 * 0.004 + 0.02 + 6.5, rel=0.01)
    )


def test_stale_reads_and_their_age() -> None:
    registry = scrape(measured(), elapsed=15)
    assert value(registry, "stampede_harness_reads_total") == 10
    assert value(registry, "stampede_harness_stale_reads_total") == 3
    assert value(registry, "stampede_harness_inconsistent_reads_total") == 1
    assert value(registry, "stampede_harness_stale_read_age_seconds_bucket", le="0.25") == 0
    assert value(registry, "stampede_harness_stale_read_age_seconds_bucket", le="0.5") == 1


def test_feed_lag_events_truth_and_completeness() -> None:
    registry = scrape(measured(), elapsed=15)
    events = "stampede_harness_feed_events_total"
    assert value(registry, events, stream="liquidations", symbol="BTCUSDT") == 1
    assert value(registry, events, stream="mark_price", symbol="BTCUSDT") == 1
    lag = "stampede_harness_feed_lag_seconds_bucket"
    assert value(registry, lag, stream="liquidations", le="0.25") == 1
    assert value(registry, lag, stream="mark_price", le="0.05") == 0
    assert value(registry, lag, stream="mark_price", le="0.1") == 1
    assert value(registry, "stampede_harness_feed_liquidations_total", symbol="BTCUSDT") == 4
    assert value(registry, "stampede_harness_feed_completeness_ratio") == 0.25


def test_depth_stream_gaps_resyncs_and_lag_per_symbol() -> None:
    metrics = Metrics()
    for step in (CALM, SURGE):
        depth = metrics.tally(SeriesKey(*step, DEPTH, "BTCUSDT"))
        record_depth_event(depth, event_time_ms=10_000, received_at=10.03, gap=True)
        record_resync(depth)
    record_depth_event(depth, event_time_ms=10_000, received_at=10.03)
    registry = scrape(metrics, elapsed=15)
    assert value(registry, "stampede_harness_depth_gaps_total", symbol="BTCUSDT") == 2
    assert value(registry, "stampede_harness_depth_resyncs_total", symbol="BTCUSDT") == 2
    events = "stampede_harness_feed_events_total"
    assert value(registry, events, stream=DEPTH, symbol="BTCUSDT") == 3
    lag = "stampede_harness_feed_lag_seconds_bucket"
    assert value(registry, lag, stream=DEPTH, le="0.05") == 3
    # Before any gap, the series are there at zero.
    empty = scrape(Metrics(), elapsed=1)
    assert value(empty, "stampede_harness_depth_gaps_total", symbol="BTCUSDT") == 0


def test_before_any_liquidation_the_feed_series_exist_and_completeness_is_undefined() -> None:
    registry = scrape(Metrics(), elapsed=1)
    events = "stampede_harness_feed_events_total"
    assert value(registry, events, stream="liquidations", symbol="BTCUSDT") == 0
    assert value(registry, "stampede_harness_feed_liquidations_total", symbol="BTCUSDT") == 0
    assert value(registry, "stampede_harness_feed_lag_seconds_count", stream="liquidations") == 0
    assert math.isnan(value(registry, "stampede_harness_feed_completeness_ratio"))


@pytest.mark.parametrize(
    ("elapsed", "phase", "index", "multiple", "offered"),
    [(-1, "calm", 0, 1, 0), (5, "calm", 0, 1, 10), (15, "surge", 1, 3, 30), (25, "surge", 1, 3, 0)],
)
def test_where_the_run_is_and_the_load_it_asks_for(
    elapsed: float, phase: str, index: int, multiple: float, offered: float
) -> None:
    registry = scrape(Metrics(), elapsed=elapsed)
    assert value(registry, "stampede_harness_step_index", phase=phase) == index
    assert value(registry, "stampede_harness_load_multiplier", **{"class": "orders"}) == multiple
    assert (
        value(registry, "stampede_harness_offered_requests_per_second", **{"class": "queries"})
        == offered
    )
    assert value(registry, "stampede_harness_elapsed_seconds") == min(max(elapsed, 0), 20)
    assert value(registry, "stampede_harness_duration_seconds") == 20
    assert value(registry, "stampede_harness_users") == 7


def test_the_collector_exports_the_run_in_progress_and_nothing_between_runs() -> None:
    environment = Environment()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HarnessCollector(environment))
    assert value(registry, "stampede_harness_run_active") == 0
    assert registry.get_sample_value("stampede_harness_requests_total") is None
    coordinator_of(environment).run = ActiveRun(two_phase_plan(origin=1000))
    text = generate_latest(registry).decode()
    assert "stampede_harness_run_active 1.0" in text
    assert 'stampede_harness_step_index{phase="surge"} 1.0' in text  # the run is long over
