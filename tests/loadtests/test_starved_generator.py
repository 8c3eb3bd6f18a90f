"""A load generator starved of CPU on purpose is reported as the limit, not the venue.

The exchange runs on one core and the generator on the other, beside busy loops pinned to the
same core: the generator gets a fraction of a core, so its sends fall seconds behind while its
senders wait on nothing, as on a two-core machine where generator and exchange share the CPU.
Every latency or timeout verdict there must read inconclusive, never as the venue's failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from exchange_mock.redis_server import EmbeddedRedis
from loadtests.report.build import load_report
from loadtests.report.slo import Judgement
from tests.loadtests.runs import (
    RUN_TIMEOUT_S,
    Target,
    locust_command,
    mock_exchange,
    profile_file,
    wait_for_origin,
)

HOGS = 7
"""Busy loops beside the generator: it gets about an eighth of its core."""
STEADY = ["{name: steady, duration_s: 10, multipliers: {orders: 1, queries: 1, market_data: 1}}"]
BASELINE = {"orders": 150, "queries": 150, "market_data": 50}
"""350 requests/s: well within what the mock serves, far beyond an eighth of a core."""
HOG_SECONDS = 30.0
"""The busy loops end by themselves after this, whatever happens to the test."""
GENERATOR_SENSITIVE = ("order_latency_p99_ms", "query_latency_p99_ms", "timeout_rate")

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs two cores to pin the exchange and the generator apart",
)

HOG = """\
import sys, time
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    pass
"""


@contextmanager
def busy_loops(core: int, count: int, seconds: float) -> Iterator[None]:
    """`count` processes spinning on `core` for at most `seconds`."""
    hogs = [subprocess.Popen([sys.executable, "-c", HOG, str(seconds)]) for _ in range(count)]
    try:
        for hog in hogs:
            os.sched_setaffinity(hog.pid, {core})
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


@pytest.fixture
def target(redis_server: EmbeddedRedis, tmp_path: Path) -> Iterator[Target]:
    with mock_exchange(redis_server, tmp_path, time_scale=10) as mock:
        yield mock


def test_a_starved_generator_is_reported_as_the_limit_not_the_venue(
    target: Target, tmp_path: Path
) -> None:
    exchange_core, generator_core = sorted(os.sched_getaffinity(0))[:2]
    for process in target.processes.values():
        os.sched_setaffinity(process.pid, {exchange_core})
    profile = profile_file(tmp_path, "steady", BASELINE, STEADY)
    run_dir = tmp_path / "run"
    locust = subprocess.Popen(
        locust_command(target, profile, run_dir, "--client-ips", "8"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        os.sched_setaffinity(locust.pid, {generator_core})
        wait_for_origin(run_dir, timeout_s=60)
        with busy_loops(generator_core, HOGS, HOG_SECONDS):
            assert locust.wait(timeout=RUN_TIMEOUT_S) in (0, 1)
    finally:
        if locust.poll() is None:
            locust.kill()
            locust.wait()
        assert locust.stderr is not None
        locust.stderr.close()

    report = load_report(run_dir)

    (step,) = report.steps
    assert step.generator_bound, step
    assert (step.behind_free_s or 0) > 1.0
    for metric in GENERATOR_SENSITIVE:
        verdict = report.verdict(metric)
        assert verdict.begins_at is None, verdict.line
        assert verdict.judgements[0] in (Judgement.INCONCLUSIVE, Judgement.HOLDS)
    lines = [report.verdict(metric).line for metric in GENERATOR_SENSITIVE]
    assert any("inconclusive" in line and "behind with free senders" in line for line in lines)
