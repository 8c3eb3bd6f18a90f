from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from loadtests.report.cli import register
from loadtests.report.render import read_report
from tests.fixtures.make_runs import RUNS_DIR

ONE_WORKER = RUNS_DIR / "step-ramp-small"
TWO_WORKERS = RUNS_DIR / "step-ramp-small-2workers"
FOUR_WORKERS = RUNS_DIR / "step-ramp-small-4workers"


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_report_writes_its_files_and_prints_the_headline(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", str(ONE_WORKER), "--out", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert "Timeouts begin at 20× (140 req/s)" in result.output
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "report-timeline.svg",
        "report.html",
        "report.json",
        "report.md",
    ]


def test_fail_on_slo_exits_1_when_an_slo_broke(app: typer.Typer, tmp_path: Path) -> None:
    args = ["report", str(ONE_WORKER), "--out", str(tmp_path), "--fail-on-slo"]

    result = CliRunner().invoke(app, args)

    assert result.exit_code == 1
    assert "11 SLOs broken" in result.output


def test_fail_on_slo_passes_when_the_slo_file_is_met(
    app: typer.Typer, tmp_path: Path, lenient_slo: Path
) -> None:
    args = ["report", str(ONE_WORKER), "--out", str(tmp_path), "--slo", str(lenient_slo)]

    result = CliRunner().invoke(app, [*args, "--fail-on-slo"])

    assert result.exit_code == 0, result.output


def test_a_directory_that_is_not_a_run_is_a_usage_error(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", str(tmp_path)])

    assert result.exit_code == 2
    assert "no profile.yaml" in result.output
    assert "Traceback" not in result.output


def test_report_scale_out_sizes_the_surge_in_api_workers(app: typer.Typer, tmp_path: Path) -> None:
    others = ["--scale-out", str(TWO_WORKERS), "--scale-out", str(FOUR_WORKERS)]

    result = CliRunner().invoke(app, ["report", str(ONE_WORKER), "--out", str(tmp_path), *others])

    assert result.exit_code == 0, result.output
    assert "Scale-out (USL over 1, 2, 4 API workers)" in result.output
    assert "16 API workers would hold 2,500 req/s." in (tmp_path / "report.md").read_text()
    written = read_report(tmp_path / "report.json")
    assert written.scale_out is not None and written.scale_out.workers_needed == 16


def test_report_scale_out_over_too_few_worker_counts_is_a_usage_error(
    app: typer.Typer, tmp_path: Path
) -> None:
    args = ["report", str(ONE_WORKER), "--out", str(tmp_path), "--scale-out", str(TWO_WORKERS)]

    result = CliRunner().invoke(app, args)

    assert result.exit_code == 2
    assert "error: the USL's three parameters need runs at three or more worker counts" in (
        result.output
    )
    assert "Traceback" not in result.output
    assert not (tmp_path / "report.html").exists()


def test_report_scale_out_needs_a_run_directory(app: typer.Typer, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-run"
    args = ["report", str(ONE_WORKER), "--out", str(tmp_path), "--scale-out", str(missing)]

    result = CliRunner().invoke(app, args)

    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_compare_prints_what_moved_and_writes_its_page(app: typer.Typer, tmp_path: Path) -> None:
    # Wide enough for a row's name on one line beside two intervals.
    runner = CliRunner(env={"COLUMNS": "200"})
    page = tmp_path / "compared.html"
    args = ["compare", str(ONE_WORKER), str(TWO_WORKERS), "--html", str(page)]

    result = runner.invoke(app, args)

    assert result.exit_code == 0, result.output
    assert "api_workers" in result.output
    assert "saturation knee" in result.output
    assert "within noise" in result.output
    assert page.read_text().count('class="plotly-graph-div"') == 2


def test_compare_prints_markdown_on_request(app: typer.Typer, tmp_path: Path) -> None:
    args = ["compare", str(ONE_WORKER), str(TWO_WORKERS), "--markdown"]
    args += ["--html", str(tmp_path / "compared.html")]

    result = CliRunner().invoke(app, args)

    assert result.exit_code == 0, result.output
    assert "| saturation knee | 20× | 50× | +150% | better |" in result.output
