"""`stampede report --index DIR`: one page listing every run under DIR, oldest first.

A team that runs Stampede every week ends up with a folder of runs; what it wants from them is
a trend: did the venue hold more this week than last? So the page lists each run (when, which
profile, against which target, its headline and its audit, a link to its report) under a small
chart of the load at which each headline SLO began to break, run after run. A run without a
report.html gets one written beside it, as `stampede report` would.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path

import plotly.graph_objects as go

from loadtests.report.build import load_report
from loadtests.report.headline import HEADLINE_SLOS
from loadtests.report.render import HTML_FILE, html_page, plot_html, write_report
from loadtests.report.run_picture import short_label
from loadtests.report.schema import Report
from loadtests.report.units import moment, multiple
from loadtests.results import STEPS_FILE
from loadtests.run_set import is_run_set

INDEX_FILE = "index.html"
NONE = "—"


@dataclass(frozen=True, slots=True)
class IndexedRun:
    directory: Path
    report: Report

    @property
    def started(self) -> float | None:
        """When the run's first step began (seconds since the epoch)."""
        rows = next(iter(self.report.classes.values()), ())
        return rows[0].start if rows else None

    @property
    def target(self) -> str:
        target = self.report.settings.get("target") or self.report.settings.get("host")
        return str(target) if target else NONE

    @property
    def audit(self) -> str:
        audit = self.report.audit
        if audit is None:
            return "not recorded"
        return "PASS" if audit.passed else "FAIL"

    def began(self, metric: str) -> float | None:
        """The load multiple at which `metric` began to break; None where it did not."""
        step = self.report.verdict(metric).begins_at
        return None if step is None else self.report.steps[step].multiple


def find_runs(directory: Path) -> Iterator[Path]:
    """Every run directory under `directory` (a set of repeats counts as one), in path order."""
    for root, folders, files in os.walk(directory):
        here = Path(root)
        if is_run_set(here) or STEPS_FILE in files:
            folders.clear()
            yield here
        folders.sort()


def index_runs(directory: Path) -> tuple[IndexedRun, ...]:
    """Every run under `directory`, oldest first."""
    runs = [IndexedRun(found, load_report(found)) for found in find_runs(directory)]
    return tuple(sorted(runs, key=lambda run: (run.started or 0.0, str(run.directory))))


def write_index(directory: Path) -> Path:
    """Write DIR/index.html, and each run's report where it has none yet."""
    runs = index_runs(directory)
    for run in runs:
        if not (run.directory / HTML_FILE).exists():
            write_report(run.report, run.directory)
    page = directory / INDEX_FILE
    page.write_text(index_html(directory, runs), encoding="utf-8")
    return page


def index_html(directory: Path, runs: tuple[IndexedRun, ...]) -> str:
    title = f"Stampede runs under {directory.name or directory}"
    body = [f"<h1>{escape(title)}</h1>"]
    if not runs:
        return html_page(title, [*body, '<p class="note">No run was found here.</p>'])
    body += [plot_html(trend_figure(runs), "plot-1"), "<table><thead><tr>"]
    body += [
        "".join(f"<th>{name}</th>" for name in ("started", "profile", "target", "headline")),
        "<th>audit</th><th>report</th></tr></thead><tbody>",
    ]
    for run in runs:
        link = (run.directory / HTML_FILE).relative_to(directory).as_posix()
        headline = "".join(f"<li>{escape(line)}</li>" for line in run.report.headline)
        body.append(
            "<tr>"
            f"<td>{escape(moment(run.started) if run.started else NONE)}</td>"
            f"<td>{escape(run.report.profile.name)}</td>"
            f"<td>{escape(run.target)}</td>"
            f'<td class="headline"><ul>{headline}</ul></td>'
            f"<td>{escape(run.audit)}</td>"
            f'<td><a href="{escape(link)}">{escape(run.report.run)}</a></td>'
            "</tr>"
        )
    body.append("</tbody></table>")
    return html_page(title, body)


def trend_figure(runs: tuple[IndexedRun, ...]) -> go.Figure:
    """Per headline SLO, the load at which it began to break in each run: a line falling from
    one run to the next is a venue that holds less than it did."""
    names = [run.report.run for run in runs]
    figure = go.Figure()
    for metric in HEADLINE_SLOS:
        began = [run.began(metric) for run in runs]
        label = short_label(runs[0].report.verdict(metric).label)
        figure.add_trace(
            go.Scatter(
                x=names,
                y=began,
                name=label,
                mode="lines+markers",
                text=[NONE if at is None else multiple(at) for at in began],
                hovertemplate=f"{label}: %{{text}}<extra>%{{x}}</extra>",
            )
        )
    figure.update_layout(
        template="plotly_white",
        height=320,
        margin={"t": 40, "l": 60, "r": 20, "b": 60},
        title={"text": "Where each SLO began to break, run by run (× baseline)"},
        yaxis={"type": "log", "dtick": 1, "title": {"text": "began at (× baseline)"}},
    )
    return figure
