"""What the measurements show when a part of the exchange really stalls.

The stalled role runs in a process of its own and is paused with SIGSTOP for a set time, then
resumed with SIGCONT: a real, honest lag, not a simulated one.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from exchange_mock.redis_server import EmbeddedRedis
from exchange_mock.settings import Role
from loadtests.metrics import CORRECTED_US, RAW_US, Percentiles, new_histogram, percentiles_of
from loadtests.report.build import load_report
from loadtests.results import RunResult, StepSummary, read_run
from tests.loadtests.runs import (
    RUN_TIMEOUT_S,
    Target,
    locust_command,
    mock_exchange,
    profile_file,
    sleep_until,
    wait_for_origin,
)


def _run_with_stall(
    target: Target,
    role: Role,
    profile: Path,
    run_dir: Path,
    stall: tuple[float, float],
    *extra: str,
) -> RunResult:
    """Run `profile`, pausing the `role` process from run second `stall[0]` to `stall[1]`."""
    locust = subprocess.Popen(
        locust_command(target, profile, run_dir, *extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    paused = target.processes[role.value].pid
    try:
        origin = wait_for_origin(run_dir)
        sleep_until(origin + stall[0])
        os.kill(paused, signal.SIGSTOP)
        sleep_until(origin + stall[1])
    finally:
        os.kill(paused, signal.SIGCONT)
    assert locust.wait(timeout=RUN_TIMEOUT_S) in (0, 1), locust.stderr
    return read_run(run_dir)


def _row(run: RunResult, step: str, series: str) -> StepSummary:
    return next(
        row for row in run.steps if (row.step, row.series, row.symbol) == (step, series, None)
    )


PROBE_INTERVAL_S = 0.3
"""Longer than the 250 ms staleness tolerance, so a probe's cycle (this pause, then an order
and a read) always is: see the truth in the test below."""


def test_reads_go_stale_while_the_projector_stalls_and_not_otherwise(
    redis_server: EmbeddedRedis, tmp_path: Path
) -> None:
    """The projector stops for the whole `stalled` phase. The share of its reads stale beyond
    the tolerance is then known exactly, from how a probe reads: at once after each fill.

    A probe's first fill in the phase is the first its reads miss, and its read right after
    misses that fill alone, by a few milliseconds: within the tolerance. Every later read in the
    phase misses it too, acknowledged at least one cycle earlier, and a cycle is longer than
    the tolerance: beyond it. So each probe has exactly one read within the tolerance, and the
    truth is (reads − probes) ÷ reads. A share of time (1 − 250 ms ÷ 2 s = 87.5%) is not it:
    reads are not spread evenly over the phase but come a cycle apart from the first missed
    fill on, and with a cycle shorter than the tolerance a probe's second read is within it too.
    """
    light = {"orders": 5, "queries": 5, "market_data": 5}
    profile = profile_file(tmp_path, "projector-stall", light, [
        "{name: steady, duration_s: 3, multipliers: {orders: 1, queries: 1, market_data: 1}}",
        "{name: stalled, duration_s: 2, multipliers: {orders: 1, queries: 1, market_data: 1}}",
        "{name: recovered, duration_s: 3, multipliers: {orders: 1, queries: 1, market_data: 1}}",
    ])  # fmt: skip
    with mock_exchange(redis_server, tmp_path, apart=[Role.PROJECTOR]) as target:
        run = _run_with_stall(
            target, Role.PROJECTOR, profile, tmp_path / "run", (3.0, 5.0),
            "--probe-interval", str(PROBE_INTERVAL_S),
        )  # fmt: skip
    steady, stalled = _row(run, "steady", "queries"), _row(run, "stalled", "queries")
    probes = run.settings["probe_accounts"] * len(run.settings["symbols"])
    assert steady.reads >= 3 * probes and stalled.reads >= 2 * probes
    assert steady.inconsistent_reads == stalled.inconsistent_reads == 0
    # A read sent right after its fill's ack can still beat the projector by a few
    # milliseconds: the read model is eventually consistent even when nothing is wrong. On a
    # busy machine that is one read in ten or so, a few of the steady phase's couple of dozen.
    assert steady.stale_rate is not None and steady.stale_rate < 0.25, steady
    assert steady.stale_age_ms is None or steady.stale_age_ms.max < 50, steady
    assert stalled.stale_rate is not None and stalled.stale_rate >= 0.8, stalled
    assert stalled.stale_age_ms is not None, stalled
    assert stalled.stale_age_ms.max >= 2 * PROBE_INTERVAL_S * 1000, stalled
    assert steady.journal_lag_events is not None and stalled.journal_lag_events is not None
    assert stalled.journal_lag_events.p50 > steady.journal_lag_events.p99
    # Judged with the 250 ms tolerance, the steady phase's races with the projector are no
    # stale reads at all; the stall's share is the truth above, inside its interval.
    report = load_report(tmp_path / "run")
    beyond = report.verdict("stale_read_rate").estimates
    assert beyond[0] is not None and beyond[0].value == 0
    measured = beyond[1]
    assert measured is not None and measured.samples == stalled.reads
    truth = (stalled.reads - probes) / stalled.reads
    assert measured.low <= truth <= measured.high, (truth, measured)
    # A fill landing within the milliseconds the stop takes can move one probe's count by a
    # read; the measurement is otherwise the truth itself.
    assert abs(measured.value - truth) * stalled.reads <= 1 + 1e-9, (truth, measured)
    assert report.verdict("stale_read_rate").begins_at == 1


def _whole_run(run: RunResult, series: str, name: str) -> Percentiles:
    """The percentiles (ms) of one histogram over every step of the run."""
    histogram = new_histogram()
    for key in run.histogram_files:
        if key.series.series == series and key.name == name:
            histogram.add(run.histogram(key))
    percentiles = percentiles_of(histogram, unit=1000)
    assert percentiles is not None, f"no {series} {name}"
    return percentiles


def test_an_engine_stall_shows_in_the_corrected_p99_and_hides_from_the_raw(
    redis_server: EmbeddedRedis, tmp_path: Path
) -> None:
    """At a constant 100 orders/s the engine stops for the one-second `stall` step. Sized for
    10 ms answers, two users are sending when it stops and a third joins as sends fall behind:
    they wait it out, and their three orders are all that raw latency shows of the second,
    well under 1% of the run's 1,200 (a busy machine, slower to answer, has a few more
    senders in flight, still under 1%). Every other order that fell due meanwhile goes out late,
    once the engine is back; from its intended time, the first fifth or so of the second's
    orders took 0.9 s or more, over 1.5% of the run. So the run's corrected p99 is the second,
    and its raw p99 that of an exchange that never stopped."""
    once = "multipliers: {orders: 1, queries: 1, market_data: 1}"
    orders_only: dict[str, float] = {"orders": 100, "queries": 0, "market_data": 0}
    profile = profile_file(tmp_path, "engine-stall", orders_only, [
        f"{{name: before, duration_s: 4, {once}}}",
        f"{{name: stall, duration_s: 1, {once}}}",
        f"{{name: after, duration_s: 7, {once}}}",
    ])  # fmt: skip
    quiet_makers = {"maker_interval_ms": 1000, "maker_levels": 3}
    with mock_exchange(redis_server, tmp_path, apart=[Role.ENGINE], **quiet_makers) as target:
        run = _run_with_stall(
            target, Role.ENGINE, profile, tmp_path / "run", (4.0, 5.0),
            "--expected-latency", "0.01", "--probe-accounts", "0",
        )  # fmt: skip
    corrected, raw = _whole_run(run, "orders", CORRECTED_US), _whole_run(run, "orders", RAW_US)
    assert corrected.max >= 1000, corrected
    assert corrected.p99 >= 900, corrected
    assert raw.max >= 900, raw  # the few orders in flight when the engine stopped felt it...
    assert raw.p99 < 500, raw  # ...and too few of them to reach the run's p99
    stall = _row(run, "stall", "orders")
    assert stall.corrected_ms is not None and stall.raw_ms is not None
    assert stall.corrected_ms.p50 >= 300, stall
    assert stall.raw_ms.p50 <= stall.corrected_ms.p50 / 2, stall
    assert stall.late_sends >= stall.requests / 2, stall
    before = _row(run, "before", "orders")
    assert before.corrected_ms is not None, before
    assert before.corrected_ms.p50 < stall.corrected_ms.p50 / 3, (before, stall)
