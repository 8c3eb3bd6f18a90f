"""`stampede run --repeat`: a profile run several times into one set, and one report over it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exchange_mock.redis_server import EmbeddedRedis
from loadtests.cli import app
from loadtests.report.render import JSON_FILE, read_report
from loadtests.results import read_run
from loadtests.run_set import is_run_set, read_set
from tests.loadtests.runs import Target, mock_exchange, profile_file

PHASES = [
    "{name: calm, duration_s: 3, multipliers: {orders: 1, queries: 1, market_data: 1}}",
    "{name: surge, duration_s: 3, multipliers: {orders: 2, queries: 2, market_data: 2}}",
]
BASELINE = {"orders": 10, "queries": 10, "market_data": 5}


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
