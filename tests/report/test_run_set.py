"""The report over a set of runs: samples pooled, and where each run alone found each SLO."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from loadtests.report.build import load_report
from loadtests.results import ResultsError
from loadtests.run_set import is_run_set, run_directory
from tests.fixtures.make_runs import RUNS_DIR

ONE_WORKER = RUNS_DIR / "step-ramp-small"
TWO_WORKERS = RUNS_DIR / "step-ramp-small-2workers"
FOUR_WORKERS = RUNS_DIR / "step-ramp-small-4workers"

X20, X50 = 4, 5


def make_set(directory: Path, *runs: Path) -> Path:
    for number, run in enumerate(runs, start=1):
        shutil.copytree(run, run_directory(directory, number))
    return directory


def test_a_set_pools_its_runs_and_says_how_many_agree(tmp_path: Path) -> None:
    # One API worker times out from 20x, two from 50x: the same profile, two answers.
    report = load_report(make_set(tmp_path / "set", ONE_WORKER, TWO_WORKERS))

    timeouts = report.verdict("timeout_rate")
    assert timeouts.runs_begin_at == (X20, X50)
    assert timeouts.line.endswith("; each run alone: 20× in 1 of 2, 50× in 1 of 2")
    # Stale reads (the projector, alike in both) begin at 10x in each.
    assert report.verdict("stale_read_rate").line.endswith("; each run alone: 10× in 2 of 2")
    # Pooled: 8 of 2,400 requests timed out at 20x in one run, none of 2,400 in the other.
    pooled = timeouts.estimates[X20]
    assert pooled is not None
    assert (pooled.value, pooled.samples) == (pytest.approx(8 / 4800), 4800)
    assert report.run == "set"
    assert report.runs == ("run-1", "run-2")


def test_one_run_is_not_a_set(tmp_path: Path) -> None:
    assert not is_run_set(ONE_WORKER)
    assert not is_run_set(tmp_path)
    assert load_report(ONE_WORKER).runs == ()


def test_runs_of_different_profiles_do_not_pool(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="different profiles"):
        load_report(make_set(tmp_path / "set", ONE_WORKER, FOUR_WORKERS))
