"""The web UI as a way in: a run that ends there (stopped from the UI, or at the end of its
profile) writes its capacity report into its run directory, and the UI serves and links it.

Locust's web UI is a Flask app (`WebUI.app`) that takes routes of its own. Reports are served at
`/stampede/reports/<run>/report.html` (and `.json`, `.md`), `/stampede/reports` lists every run
of this process, and each report is linked from the UI's "Download Data" tab: Locust renders a
link there for each entry of its `extended_csv_files` template argument, when the page loads
(a page open while the run ends shows the link once reloaded).

A headless run leaves the report to whoever started it (`stampede run` writes it with the SLOs
it was given), so only a process with a web UI writes one here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

from flask import Response, abort, send_from_directory
from locust.web import WebUI

from loadtests.report.build import load_report
from loadtests.report.render import write_report
from loadtests.results import ResultsError

log = logging.getLogger(__name__)

REPORTS = "/stampede/reports"
REPORT_FILES = frozenset({"report.html", "report.json", "report.md"})
View = Callable[..., Any]
LINKS = "extended_csv_files"
"""The template argument whose entries (`href`, `title`) the "Download Data" tab links."""


class ReportShelf:
    """The reports of the runs this web UI ran, written as each run ends and served by it."""

    def __init__(self, web_ui: WebUI) -> None:
        self._web_ui = web_ui
        self._runs: dict[str, Path] = {}
        app = web_ui.app
        assert app is not None, "a web UI serves from its Flask app"
        guard: Callable[[View], View] = web_ui.auth_required_if_enabled
        app.add_url_rule(REPORTS, "stampede_reports", guard(self._index))
        app.add_url_rule(f"{REPORTS}/<name>/<filename>", "stampede_report", guard(self._serve))

    def publish(self, run_dir: Path) -> None:
        """Write the report of the run in `run_dir` and link it; a run with nothing to report
        is logged, not linked."""
        try:
            files = write_report(load_report(run_dir), run_dir)
        except (ResultsError, ValueError) as exc:
            log.warning("no report for %s: %s", run_dir, exc)
            return
        self._runs[run_dir.name] = run_dir
        self._web_ui.template_args[LINKS] = [
            {"href": link(name), "title": f"Capacity report: {name}"} for name in self._runs
        ]
        log.info("report of %s written: %s, served at %s", run_dir, files.html, link(run_dir.name))

    def _index(self) -> str:
        items = "".join(
            f'<li><a href="{escape(link(name))}">{escape(name)}</a></li>' for name in self._runs
        )
        return f"<!doctype html><title>Capacity reports</title><ul>{items}</ul>"

    def _serve(self, name: str, filename: str) -> Response:
        run_dir = self._runs.get(name)
        if run_dir is None or filename not in REPORT_FILES:
            abort(404)
        return send_from_directory(run_dir.resolve(), filename)


def link(name: str) -> str:
    """Where the web UI serves the HTML report of run `name`."""
    return f"{REPORTS}/{name}/report.html"
