"""`stampede run --repeat`: a profile run several times into one set, and one report over it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exchange_mock.redis_server import EmbeddedRedis
from loadtests.cli import app
from loadtests.report.render import JSON_FILE, read_report
from loadtests.results import read_run
from loadtests.run_set import is_run_set, read_set
from tests.loadtests.runs import Target, mock_exchange, profile_file, sleep_until, wait_for_origin

PHASES = [
    "{name: calm, duration_s: 3, multipliers: {orders: 1, queries: 1, market_data: 1}}",
    "{name: surge, duration_s: 3, multipliers: {orders: 2, queries: 2, market_data: 2}}",
]
BASELINE = {"orders": 10, "queries": 10, "market_data": 5}
STAMPEDE = Path(sys.executable).parent / "stampede"


@pytest.fixture(scope="module")
def target(
    redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    with mock_exchange(redis_server, tmp_path_factory.mktemp("target"), time_scale=10) as mock:
        yield mock


def test_a_repeat_of_two_writes_one_report_over_both(target: Target, tmp_path: Path) -> None:
    profile = profile_file(tmp_path, "two-steps", BASELINE, PHASES)
    out = tmp_path / "set"

    command = [
        "run", str(profile), "--repeat", "2", "--out", str(out),
        "--target", target.url, "--accounts-file", str(target.accounts_file),
        "--client-ips", "8",
    ]  # fmt: skip

    result = CliRunner().invoke(app, command)

    assert result.exit_code == 0, result.output
    assert is_run_set(out)
    runs = read_set(out)
    assert [run.directory.name for run in runs] == ["run-1", "run-2"]
    report = read_report(out / JSON_FILE)
    assert report.run == "set"
    assert report.runs == ("run-1", "run-2")
    # The intervals pool both runs: each step's timeout share is over both runs' requests.
    requests = [
        sum(row.requests for row in read_run(run.directory).steps if row.symbol is None)
        for run in runs
    ]
    pooled = report.verdict("timeout_rate").estimates
    assert sum(e.samples for e in pooled if e is not None) == sum(requests)
    # Every objective says where each run alone found it beginning, and how many agree.
    for verdict in report.verdicts:
        assert len(verdict.runs_begin_at) == 2
        assert "each run alone: " in verdict.line
        assert " of 2" in verdict.line
    assert json.loads((out / JSON_FILE).read_text())["runs"] == ["run-1", "run-2"]
    assert "• Timeouts" in result.output


def test_ctrl_c_stops_the_whole_set_and_reports_the_runs_that_finished(
    target: Target, tmp_path: Path
) -> None:
    """Ctrl-C in a terminal reaches `stampede` and its Locust alike (one process group). It
    must end the set, not just the run it lands in: the set keeps its finished run, sets the
    stopped one aside, starts no third, and its report says it stopped after 1 of 3."""
    profile = profile_file(tmp_path, "short", BASELINE, [
        "{name: calm, duration_s: 2, multipliers: {orders: 1, queries: 1, market_data: 1}}",
    ])  # fmt: skip
    out = tmp_path / "set"
    command = [
        str(STAMPEDE), "run", str(profile), "--repeat", "3", "--out", str(out),
        "--target", target.url, "--accounts-file", str(target.accounts_file),
        "--client-ips", "8",
    ]  # fmt: skip
    log = (tmp_path / "stampede.log").open("wb")
    stampede = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        sleep_until(wait_for_origin(out / "run-2", timeout_s=60) + 0.5)
        os.killpg(stampede.pid, signal.SIGINT)
        assert stampede.wait(timeout=60) == 0, (tmp_path / "stampede.log").read_text()[-3000:]
    finally:
        if stampede.poll() is None:
            os.killpg(stampede.pid, signal.SIGKILL)
            stampede.wait()
        log.close()

    assert sorted(path.name for path in out.iterdir() if path.is_dir()) == [
        "run-1",
        "run-2-interrupted",
    ]
    assert [run.directory.name for run in read_set(out)] == ["run-1"]
    report = read_report(out / JSON_FILE)
    assert report.runs_planned == 3
    assert report.headline[0].startswith("The set was interrupted after 1 of 3 runs")
    assert report.headline[0] in (out / "report.md").read_text()
    assert "the set stops after 1 of 3 runs" in (tmp_path / "stampede.log").read_text()
