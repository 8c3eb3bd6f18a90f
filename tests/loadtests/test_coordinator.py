from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.coordinator import ActiveRun, ProgressMeter, fresh_run_dir
from loadtests.feedwatch import FEED, record_event, record_liquidations
from loadtests.metrics import RETRIES, Metrics, Outcome, SeriesKey
from loadtests.profiles import RequestClass
from loadtests.results import PROFILE_FILE
from loadtests.sizing import ClassFeedback
from loadtests.staleness import READS, STALE_READS
from loadtests.users.context import Shipment
from tests.loadtests.fakes import two_phase_plan

CALM, SURGE = (0, "calm"), (1, "surge")


def _metrics() -> Metrics:
    metrics = Metrics()
    orders = metrics.tally(SeriesKey(*CALM, "orders"))
    orders.count(Outcome.SUCCESS, 90)
    orders.count(Outcome.RATE_LIMITED_429, 5)
    orders.count(RETRIES, 4)
    metrics.tally(SeriesKey(*SURGE, "orders")).count(Outcome.TIMEOUT_408, 2)
    metrics.tally(SeriesKey(*SURGE, "orders")).count(RETRIES, 3)
    queries = metrics.tally(SeriesKey(*SURGE, "queries"))
    queries.count(READS, 8)
    queries.count(STALE_READS, 2)
    feed = metrics.tally(SeriesKey(*SURGE, FEED, "BTCUSDT"))
    record_event(feed, event_time_ms=1_014_000, received_at=1014.2)
    record_liquidations(feed, 8)
    return metrics


def test_progress_reports_the_step_rates_errors_retries_staleness_and_feed() -> None:
    plan = two_phase_plan(origin=1000)
    meter = ProgressMeter(plan.timeline(), plan.origin)
    progress = meter.snapshot(_metrics(), 1015.0, users=12, done=False)
    assert (progress.elapsed_s, progress.duration_s) == (15.0, 20.0)
    assert (progress.phase, progress.step_index) == ("surge", 1)
    assert progress.multipliers == {"orders": 3, "queries": 3, "market_data": 3}
    assert progress.offered == {"orders": 30, "queries": 30, "market_data": 30}
    assert progress.errors == {"rate_limited_429": 5, "timeout_408": 2}
    assert progress.retries == {"orders": 7, "queries": 0, "market_data": 0}
    assert progress.stale_pct == 25
    assert progress.feed_lag_p99_ms == pytest.approx(200, rel=0.01)
    assert progress.feed_completeness == pytest.approx(1 / 8)
    assert (progress.users, progress.done) == (12, False)


def test_achieved_rates_are_over_a_trailing_window() -> None:
    plan = two_phase_plan(origin=1000)
    meter = ProgressMeter(plan.timeline(), plan.origin)
    metrics = Metrics()
    orders = metrics.tally(SeriesKey(*CALM, "orders"))
    assert meter.snapshot(metrics, 1001.0, users=1, done=False).achieved["orders"] == 0
    orders.count(Outcome.SUCCESS, 20)
    assert meter.snapshot(metrics, 1003.0, users=1, done=False).achieved["orders"] == 10


def test_after_the_end_nothing_is_offered() -> None:
    plan = two_phase_plan(origin=1000)
    progress = ProgressMeter(plan.timeline(), plan.origin).snapshot(
        Metrics(), 1030.0, users=0, done=True
    )
    assert progress.elapsed_s == 20 and progress.phase == "surge"
    assert set(progress.offered.values()) == {0}


def _feedback(exhausted: bool, in_flight: int) -> dict[RequestClass, ClassFeedback]:
    report = ClassFeedback(exhausted=exhausted, in_flight=in_flight)
    return dict.fromkeys(RequestClass, report)


def test_a_run_is_over_when_every_generator_is_drained_or_the_last_answers_are_overdue() -> None:
    run = ActiveRun(two_phase_plan(origin=1000, client_timeout=5))
    assert not run.over(1010.0, sources=2)
    run.receive("w1", Shipment(metrics=Metrics().drain(), feedback=_feedback(True, 0)))
    assert not run.over(1021.0, sources=2)
    run.receive("w2", Shipment(metrics=Metrics().drain(), feedback=_feedback(True, 1)))
    assert not run.over(1021.0, sources=2)
    assert run.over(1027.0, sources=2)
    run.receive("w2", Shipment(metrics=Metrics().drain(), feedback=_feedback(True, 0)))
    assert run.over(1021.0, sources=2)


def test_nothing_is_taken_from_a_generator_after_its_final_shipment() -> None:
    run = ActiveRun(two_phase_plan(origin=1000))
    metrics = Metrics()
    metrics.tally(SeriesKey(*CALM, "orders")).count(Outcome.SUCCESS)
    run.receive("w1", Shipment(metrics=metrics.drain(), feedback={}, final=True))
    metrics.tally(SeriesKey(*CALM, "orders")).count(Outcome.SUCCESS)
    run.receive("w1", Shipment(metrics=metrics.drain(), feedback={}))
    assert run.finals == {"w1"}
    assert run.metrics.tally(SeriesKey(*CALM, "orders")).counts == {Outcome.SUCCESS: 1}


def test_a_second_run_in_the_same_directory_gets_a_fresh_one(tmp_path: Path) -> None:
    base = tmp_path / "run"
    assert fresh_run_dir(base) == base
    base.mkdir()
    (base / "accounts.json").write_text("[]")
    assert fresh_run_dir(base) == base
    (base / PROFILE_FILE).write_text("x")
    assert fresh_run_dir(base) == tmp_path / "run-2"
    (tmp_path / "run-2").mkdir()
    (tmp_path / "run-2" / PROFILE_FILE).write_text("x")
    assert fresh_run_dir(base) == tmp_path / "run-3"
