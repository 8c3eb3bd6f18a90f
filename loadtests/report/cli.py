"""The report's commands, mounted on the `stampede` CLI: `report` and `compare`.

Both read run directories only, so they work on a run copied from another machine or from CI
as well as on one just finished.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console

from loadtests.report.build import load_report
from loadtests.report.compare import compare as compare_reports
from loadtests.report.compare_page import write_compare
from loadtests.report.render import write_report
from loadtests.report.run_index import write_index
from loadtests.report.schema import Report

SLO_HELP = "An SLO file; the thresholds it names replace the shipped ones (loadtests/slo.yaml)."
SCALE_OUT_HELP = (
    "A run of a step ramp at another API worker count (settings.json api_workers); repeat it. "
    "With three or more worker counts in all, the capacity plan fits the Universal Scalability "
    "Law and says how many API workers the surge needs."
)
USAGE_ERROR = 2
"""The exit status of a run directory or SLO file that cannot be read, as typer uses for bad
arguments; 1 is kept for --fail-on-slo."""

RunDir = Annotated[
    Path,
    typer.Argument(
        help="A run directory, or a set of runs (stampede run --repeat).",
        exists=True,
        file_okay=False,
        dir_okay=True,
    ),
]
SloFile = Annotated[
    Path | None, typer.Option(help=SLO_HELP, exists=True, file_okay=True, dir_okay=False)
]


def report(
    run_dir: Annotated[
        Path | None,
        typer.Argument(
            help="A run directory, or a set of runs (stampede run --repeat); not with --index.",
            exists=True,
            file_okay=False,
            dir_okay=True,
        ),
    ] = None,
    slo: SloFile = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Where to write report.html, .json, .md and the .md's picture; the run directory."
        ),
    ] = None,
    fail_on_slo: Annotated[
        bool, typer.Option(help="Exit with status 1 when any SLO is broken at any step.")
    ] = False,
    scale_out: Annotated[
        list[Path] | None,
        typer.Option(
            help=SCALE_OUT_HELP, metavar="DIR", exists=True, file_okay=False, dir_okay=True
        ),
    ] = None,
    index: Annotated[
        Path | None,
        typer.Option(
            help="Write DIR/index.html listing every run under DIR (and the report of each run "
            "that has none), with where each SLO began to break run by run.",
            metavar="DIR",
            exists=True,
            file_okay=False,
            dir_okay=True,
        ),
    ] = None,
) -> None:
    """Write the capacity report of a run: HTML with plots, JSON, and Markdown; or, with
    --index, the index of every run under a directory."""
    console = Console()
    if index is not None:
        with _usage_errors():
            page = write_index(index)
        console.print(f"wrote {page}", highlight=False)
        return
    if run_dir is None:
        typer.echo("error: give a run directory, or --index DIR", err=True)
        raise typer.Exit(USAGE_ERROR)
    built = _load(run_dir, slo, scale_out or ())
    files = write_report(built, out or run_dir)
    for line in built.headline:
        console.print(f"• {line}", highlight=False)
    written = ", ".join(path.name for path in (files.json, files.markdown, files.picture))
    console.print(f"\nwrote {files.html}, {written}")
    if fail_on_slo and built.broken:
        labels = ", ".join(verdict.label for verdict in built.broken)
        console.print(f"[red]{len(built.broken)} SLOs broken:[/red] {labels}")
        raise typer.Exit(1)


def compare(
    run_a: RunDir,
    run_b: RunDir,
    slo: SloFile = None,
    markdown: Annotated[
        bool, typer.Option(help="Print Markdown (for a pull request) instead of tables.")
    ] = False,
    html: Annotated[
        Path | None,
        typer.Option(
            help="Where to write the comparison's page, both runs' pictures on the same axes; "
            "compare-<run A>.html in run B's directory."
        ),
    ] = None,
) -> None:
    """Show what moved from run A to run B: capacity, knee, where each SLO breaks, each SLO's
    value per step, each outage's recovery; better or worse only beyond noise."""
    before, after = _load(run_a, slo), _load(run_b, slo)
    comparison = compare_reports(before, after)
    page = write_compare(comparison, before, after, html or run_b / f"compare-{run_a.name}.html")
    if markdown:
        typer.echo(comparison.markdown())
        typer.echo(f"wrote {page}", err=True)
        return
    console = Console()
    for table in comparison.tables():
        console.print(table.rich())
    console.print(f"\nwrote {page}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(report)
    app.command()(compare)


def _load(run_dir: Path, slo: Path | None, scale_out: Sequence[Path] = ()) -> Report:
    with _usage_errors():
        return load_report(run_dir, slo, scale_out=scale_out)


@contextmanager
def _usage_errors() -> Iterator[None]:
    try:
        yield
    except (ValueError, OSError, yaml.YAMLError) as exc:
        # ResultsError and pydantic's ValidationError are ValueErrors: a broken run directory
        # or SLO file is the user's to fix, so say what is wrong without a traceback.
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(USAGE_ERROR) from exc
