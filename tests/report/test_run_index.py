from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from loadtests.report.cli import register
from loadtests.report.run_index import find_runs, index_runs, write_index
from tests.fixtures.make_runs import RUNS_DIR


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    """The committed fixture runs, copied so their reports can be written beside them."""
    folder = tmp_path / "weekly"
    shutil.copytree(RUNS_DIR, folder)
    return folder


def test_every_run_under_the_folder_is_found_once(runs: Path) -> None:
    assert [path.name for path in find_runs(runs)] == [
        "step-ramp-small",
        "step-ramp-small-2workers",
        "step-ramp-small-4workers",
    ]


def test_the_index_lists_each_run_with_its_headline_audit_and_report(runs: Path) -> None:
    page = write_index(runs).read_text()

    for run in index_runs(runs):
        assert f'href="{run.directory.name}/report.html"' in page
        assert (run.directory / "report.html").exists()
        for line in run.report.headline:
            assert line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in page
    assert page.count("<td>PASS</td>") == 3
    assert page.count("<td>2025-10-10 21:00:00 UTC</td>") == 3
    assert page.count("<td>http://127.0.0.1:8000</td>") == 3
    assert page.count("<td>step-ramp-small</td>") == 2  # the 4-worker ramp has its own profile


def test_the_trend_shows_where_each_slo_began_run_by_run(runs: Path) -> None:
    indexed = index_runs(runs)

    # Timeouts begin at 20x on one worker, 50x on two, 100x on four: the trend moves out.
    assert [run.began("timeout_rate") for run in indexed] == [20.0, 50.0, 100.0]
    assert [run.began("stale_read_rate") for run in indexed] == [10.0, 10.0, 10.0]
    assert len(re.findall(r'<div id="plot-\d+"', write_index(runs).read_text())) == 1


def test_stampede_report_index_writes_the_page(runs: Path) -> None:
    app = typer.Typer()
    register(app)

    result = CliRunner().invoke(app, ["report", "--index", str(runs)])

    assert result.exit_code == 0, result.output
    assert (runs / "index.html").exists()
