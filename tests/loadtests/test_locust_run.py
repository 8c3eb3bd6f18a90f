"""Real Locust runs against the real mock: what a run leaves behind, locally, distributed, and
when it is interrupted."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from exchange_mock.redis_server import EmbeddedRedis, free_port
from loadtests.metrics import Outcome
from loadtests.profiles import RequestClass
from loadtests.progress import read_progress
from loadtests.results import RunResult, StepSummary, read_run
from loadtests.run import forked
from tests.loadtests.runs import (
    LOCUSTFILE,
    RUN_TIMEOUT_S,
    Target,
    locust_command,
    mock_exchange,
    profile_file,
    progress_done,
    run_locust,
    sleep_until,
    wait_for_origin,
    wait_until,
)

CLASSES = [klass.value for klass in RequestClass]
TWO_STEPS = [
    "{name: calm, duration_s: 3, multipliers: {orders: 1, queries: 1, market_data: 1}}",
    "{name: surge, duration_s: 3, multipliers: {orders: 2, queries: 3, market_data: 2}}",
]
BASELINE = {"orders": 20, "queries": 20, "market_data": 20}


SPREAD = ("--client-ips", "8")
"""Every run speaks for eight client addresses, as a load generator behind a load balancer
would: one address would soon meet the per-IP weight limit over several runs."""


@pytest.fixture(scope="module")
def target(
    redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    # Rate-limit windows of 6 s instead of a minute, so one run's weight is not the next one's.
    directory = tmp_path_factory.mktemp("target")
    with mock_exchange(redis_server, directory, time_scale=10) as exchange:
        yield exchange


@pytest.fixture(scope="module")
def two_steps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return profile_file(tmp_path_factory.mktemp("profiles"), "two-steps", BASELINE, TWO_STEPS)


@pytest.fixture(scope="module")
def local_run(
    target: Target, two_steps: Path, tmp_path_factory: pytest.TempPathFactory
) -> RunResult:
    run_dir = tmp_path_factory.mktemp("local") / "run"
    return run_locust(target, two_steps, run_dir, *SPREAD, "--probe-interval", "0.1")


def _rows(run: RunResult) -> dict[tuple[str, str, str | None], StepSummary]:
    return {(row.step, row.series, row.symbol): row for row in run.steps}


def _histograms(run: RunResult, step: str) -> set[str]:
    """The histogram files of one step, as `series.symbol.name`."""
    return {
        f"{key.series.series}.{key.series.symbol or 'all'}.{key.name}"
        for key in run.histogram_files
        if key.series.step == step
    }


def _files(run: RunResult) -> set[str]:
    return {str(path.relative_to(run.directory)) for path in run.directory.rglob("*")}


def test_a_run_leaves_its_whole_directory(local_run: RunResult) -> None:
    files = _files(local_run)
    expected = {
        "profile.yaml", "settings.json", "steps.jsonl", "histograms", "audit.json",
        "timeline.jsonl", "generator.jsonl", "exchange.jsonl", "moments.jsonl", "progress.json",
        "locust_stats.csv", "locust_stats_history.csv",
        "locust_failures.csv", "locust_exceptions.csv",
    }  # fmt: skip
    assert expected <= files
    assert local_run.profile.name == "two-steps"
    assert local_run.settings["client_ips"] == 8 and local_run.settings["workers"] == 1
    progress = read_progress(local_run.directory)
    assert progress is not None and progress.done and progress.elapsed_s == 6
    assert local_run.audit is not None and local_run.audit.passed
    assert "order:limit" in (local_run.directory / "locust_stats.csv").read_text()
    # The market, once a second per symbol through the run's six seconds.
    assert {sample.symbol for sample in local_run.timeline} == {"BTCUSDT", "ETHUSDT"}
    assert 5 * 2 <= len(local_run.timeline) <= 7 * 2
    # The load machine, on the same seconds: the host's CPU (never nothing, with an exchange
    # and a load running on it, the first sample's included) and the only runner's.
    assert 5 <= len(local_run.generator) <= 7
    for sample in local_run.generator:
        assert 0 < sample.host_cpu <= 100
        assert sample.runner_cpu.keys() == {"local"}
        assert all(0 <= cpu <= 100 for cpu in sample.runner_cpu.values())
    # The exchange's own state on the same seconds: its one process runs every role, and its
    # queue, the projector's sequence and its API edge's requests are all there to read.
    assert 5 <= len(local_run.exchange) <= 7
    for sample in local_run.exchange:
        (process,) = sample.processes
        assert set(process.roles) == {"api", "engine", "projector", "makers", "feeds"}
        assert 0 < process.cpu_pct <= 100
        assert process.request_capacity == 1_000 and process.requests_in_flight is not None
        assert process.redis_round_trips > 0 and process.redis_rtt_ms is not None
        assert 0 <= sample.projected_seq <= sample.journal_head and sample.orders_queued >= 0
    heads = [sample.journal_head for sample in local_run.exchange]
    assert heads == sorted(heads) and heads[-1] > heads[0], "the run's orders were journaled"


def test_every_step_and_class_has_rates_outcomes_and_both_latencies(local_run: RunResult) -> None:
    rows = _rows(local_run)
    for step in ("calm", "surge"):
        for series in CLASSES:
            row = rows[(step, series, None)]
            assert row.offered_rate is not None and row.achieved_rate is not None
            # Each request counts in the step of its intended time: the schedule, give or take
            # the one at the boundary.
            assert abs(row.requests - row.offered_rate * 3) <= 1
            assert sum(row.outcomes.values()) == row.requests
            assert row.outcomes[Outcome.SUCCESS] >= 0.9 * row.requests
            assert row.corrected_ms is not None and row.raw_ms is not None
            assert row.corrected_ms.p50 >= row.raw_ms.p50
            assert row.used_weight_max is not None
        assert rows[(step, "orders", None)].order_count_10s_max is not None
        assert _histograms(local_run, step) >= {
            f"{series}.all.{name}" for series in CLASSES for name in ("corrected_us", "raw_us")
        }


def test_staleness_reads_and_journal_lag_are_measured(local_run: RunResult) -> None:
    for step in ("calm", "surge"):
        queries = _rows(local_run)[(step, "queries", None)]
        assert queries.reads > 10
        assert queries.inconsistent_reads == 0
        assert queries.journal_lag_events is not None
        assert "queries.all.journal_lag_events" in _histograms(local_run, step)


def test_the_feeds_are_heard_with_their_lag(local_run: RunResult) -> None:
    rows = _rows(local_run)
    for step in ("calm", "surge"):
        for symbol in ("BTCUSDT", "ETHUSDT"):
            marks = rows[(step, "mark_price", symbol)]
            assert marks.feed_events >= 2 and marks.feed_lag_ms is not None
        assert rows[(step, "user_data", None)].feed_events > 0
        assert "mark_price.BTCUSDT.feed_lag_us" in _histograms(local_run, step)


def test_the_depth_stream_keeps_local_books_in_step_with_rest(local_run: RunResult) -> None:
    """A healthy venue: each symbol's book follows the diff stream without a gap, its lag is
    measured, and the market-data users' REST depth reads are compared with it."""
    rows = _rows(local_run)
    for step in ("calm", "surge"):
        for symbol in ("BTCUSDT", "ETHUSDT"):
            depth = rows[(step, "depth_stream", symbol)]
            assert depth.feed_events >= 10 and depth.feed_lag_ms is not None, depth
            assert depth.depth_gaps == 0 and depth.depth_resyncs == 0, depth
            assert depth.feed_lag_ms.p50 < 1000, depth
        pooled = rows[(step, "depth_stream", None)]
        assert pooled.top_samples > 0 and pooled.top_off_ticks is not None, pooled
        assert 0 <= pooled.top_different <= pooled.top_samples
        assert "depth_stream.BTCUSDT.feed_lag_us" in _histograms(local_run, step)


def test_retries_are_counted_in_the_step_and_class_that_made_them(
    target: Target, tmp_path: Path
) -> None:
    """Clients that retry at once: while half the requests are refused with 503, about one
    retry per request goes out on top of the profile's load, each request still counted once.
    A quiet phase keeps the sound one's requests, sent late on a busy machine, off the fault."""
    flaky = profile_file(tmp_path, "flaky", BASELINE, [
        "{name: sound, duration_s: 2, multipliers: {orders: 1, queries: 1, market_data: 1}}",
        "{name: quiet, duration_s: 2, multipliers: {orders: 0, queries: 0, market_data: 0}}",
        "{name: flaky, duration_s: 3, multipliers: {orders: 1, queries: 1, market_data: 1},"
        " events: [{type: fault, kind: unavailable_pct, value: 50}]}",
    ])  # fmt: skip
    run = run_locust(target, flaky, tmp_path / "run", *SPREAD, "--retry", "immediate")
    rows = _rows(run)
    for series in CLASSES:
        sound, faulty = rows[("sound", series, None)], rows[("flaky", series, None)]
        assert sound.retries <= 0.05 * sound.requests, sound
        assert faulty.retries >= 0.5 * faulty.requests, faulty
        assert faulty.outcomes[Outcome.SUCCESS] >= 0.8 * faulty.requests, faulty
        assert faulty.offered_rate is not None
        assert abs(faulty.requests - faulty.offered_rate * 3) <= 1, faulty
    progress = read_progress(run.directory)
    assert progress is not None
    assert progress.retries == {
        series: sum(row.retries for key, row in rows.items() if key[1:] == (series, None))
        for series in CLASSES
    }


def _master_and_workers(target: Target, profile: Path, run_dir: Path) -> None:
    port = str(free_port())
    master = locust_command(
        target, profile, run_dir, *SPREAD, "--probe-interval", "0.1", "--master",
        "--expect-workers", "2", "--master-bind-host", "127.0.0.1", "--master-bind-port", port,
    )  # fmt: skip
    worker = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--worker",
        "--master-host", "127.0.0.1", "--master-port", port,
    ]  # fmt: skip
    workers = [
        subprocess.Popen(worker, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    try:
        finished = subprocess.run(
            master, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
        )
        assert finished.returncode in (0, 1), finished.stderr[-4000:]
    finally:
        for process in workers:
            process.wait(timeout=30)


def _moments_add_up(run: RunResult) -> None:
    """Every request is in a moment of its class too, whichever process made it: what the
    report times recoveries on is the run's whole load."""
    for series in CLASSES:
        in_moments = sum(m.requests for m in run.moments if m.series == series)
        in_steps = sum(row.requests for row in run.steps if row.series == series and not row.symbol)
        assert in_moments == in_steps > 0, series


def _same_results(local: RunResult, other: RunResult) -> None:
    _moments_add_up(local)
    _moments_add_up(other)
    assert _files(other) == _files(local)
    local_rows, other_rows = _rows(local), _rows(other)
    assert set(other_rows) == set(local_rows)
    for key, row in local_rows.items():
        if key[1] in CLASSES:
            assert abs(other_rows[key].requests - row.requests) <= 1, key
    for step in ("calm", "surge"):
        assert other_rows[(step, "queries", None)].reads > 10


def test_a_distributed_run_leaves_the_same_results_as_a_local_one(
    target: Target, two_steps: Path, local_run: RunResult, tmp_path: Path
) -> None:
    _master_and_workers(target, two_steps, tmp_path / "run")
    distributed = read_run(tmp_path / "run")
    assert distributed.settings["workers"] == 2
    # Each worker's CPU, as its heartbeats report it to the master.
    assert any(len(sample.runner_cpu) == 2 for sample in distributed.generator)
    _same_results(local_run, distributed)


def test_a_run_forked_into_processes_leaves_the_same_results(
    target: Target, two_steps: Path, local_run: RunResult, tmp_path: Path
) -> None:
    forked_run = run_locust(
        target, two_steps, tmp_path / "run", *SPREAD, "--probe-interval", "0.1", *forked(2)
    )
    assert forked_run.settings["workers"] == 2
    _same_results(local_run, forked_run)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_still_leaves_a_complete_directory(
    target: Target, tmp_path: Path, stop: signal.Signals
) -> None:
    long = profile_file(tmp_path, "long", BASELINE, [
        "{name: first, duration_s: 30, multipliers: {orders: 1, queries: 1, market_data: 1}}",
        "{name: second, duration_s: 30, multipliers: {orders: 1, queries: 1, market_data: 1}}",
    ])  # fmt: skip
    run_dir = tmp_path / "run"
    locust = subprocess.Popen(
        locust_command(target, long, run_dir, *SPREAD),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    sleep_until(wait_for_origin(run_dir) + 2)
    locust.send_signal(stop)
    assert locust.wait(timeout=60) in (0, 1)
    wait_until(lambda: progress_done(run_dir), 5, "the final progress")
    partial = read_run(run_dir)
    rows = _rows(partial)
    assert rows[("first", "orders", None)].requests >= 20
    assert rows[("second", "orders", None)].requests == 0
    assert partial.locust_csvs and partial.histogram_files
    assert partial.timeline and max(sample.at for sample in partial.timeline) < 10
