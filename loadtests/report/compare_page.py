"""`stampede compare`'s page: what moved, and the two runs' pictures one above the other on the
same axes, so a reader sees where the second run bent earlier or later rather than reading it
from a table of steps."""

from __future__ import annotations

from html import escape
from pathlib import Path

from loadtests.report.compare import Comparison
from loadtests.report.picture_plot import picture_figure
from loadtests.report.render import html_page, plot_html
from loadtests.report.run_picture import run_picture
from loadtests.report.schema import Report


def compare_html(comparison: Comparison, before: Report, after: Report) -> str:
    pictures = run_picture(before), run_picture(after)
    title = f"Compared: {comparison.before} → {comparison.after}"
    body = [
        f"<h1>{escape(title)}</h1>",
        '<p class="note">A value is better or worse only where the two runs\' 95% intervals '
        "separate, a recovery time only where it moved by more than its resolution; otherwise "
        "it is within noise.</p>",
        *(
            plot_html(picture_figure(picture, f"{label}: {report.run}", axes=pictures), f"plot-{n}")
            for n, (label, report, picture) in enumerate(
                zip(("before", "after"), (before, after), pictures, strict=True), start=1
            )
        ),
        *(table.html() for table in comparison.tables()),
    ]
    return html_page(title, body)


def write_compare(comparison: Comparison, before: Report, after: Report, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(compare_html(comparison, before, after), encoding="utf-8")
    return path
