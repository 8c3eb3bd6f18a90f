"""report.html opened in a real (headless) Chromium: it must render every plot, log no error and
fetch nothing from the network.

Driven through the DevTools protocol, so console errors, uncaught exceptions and every request
the page makes are seen, not guessed from a screenshot. Skipped when no Chromium is installed.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import websockets

from loadtests.report.audit import CASH, COLLATERAL
from loadtests.report.build import load_report
from loadtests.report.compare import compare
from loadtests.report.compare_page import write_compare
from loadtests.report.render import write_report
from loadtests.report.run_index import write_index
from loadtests.report.schema import Report
from tests.fixtures.make_runs import RUNS_DIR

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--window-size=1280,900",
)
DEADLINE_S = 30.0
LISTENING = re.compile(r"DevTools listening on (ws://\S+)")
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium or chromium-browser on PATH to open report.html in"
)


@dataclass
class DevTools:
    """Just enough of the DevTools protocol: calls with replies, and every event kept."""

    socket: Any
    events: list[dict[str, Any]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _waiting: dict[int, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)

    async def listen(self) -> None:
        async for message in self.socket:
            data = json.loads(message)
            if "id" in data:
                self._waiting.pop(data["id"]).set_result(data)
            else:
                self.events.append(data)

    async def call(self, method: str, session: str | None = None, **params: Any) -> Any:
        ident = next(self._ids)
        reply = self._waiting[ident] = asyncio.get_running_loop().create_future()
        request: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if session is not None:
            request["sessionId"] = session
        await self.socket.send(json.dumps(request))
        answer = await asyncio.wait_for(reply, DEADLINE_S)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    def named(self, method: str) -> list[dict[str, Any]]:
        return [event["params"] for event in self.events if event.get("method") == method]


@asynccontextmanager
async def browser(profile: Path) -> AsyncIterator[DevTools]:
    assert CHROMIUM is not None
    process = await asyncio.create_subprocess_exec(
        CHROMIUM,
        *FLAGS,
        f"--user-data-dir={profile}",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        url = await asyncio.wait_for(_devtools_url(process), DEADLINE_S)
        async with websockets.connect(url, max_size=None) as socket:
            devtools = DevTools(socket)
            listener = asyncio.create_task(devtools.listen())
            try:
                yield devtools
            finally:
                listener.cancel()
    finally:
        process.terminate()
        await process.wait()


async def _devtools_url(process: asyncio.subprocess.Process) -> str:
    assert process.stderr is not None
    async for line in process.stderr:
        if match := LISTENING.search(line.decode(errors="replace")):
            return match.group(1)
    raise RuntimeError("chromium exited without opening its DevTools port")


@dataclass(frozen=True)
class Opened:
    plots: int
    rendered: int
    """Plot divs holding a drawn svg.main-svg with at least one trace."""
    errors: list[str]
    requests: list[str]
    screenshot: bytes
    first_plot: str
    """The first figure's subplot titles, and whether it opens the page beside the headline."""
    text: str
    """The page as a reader sees it (`innerText`: folded parts are left out)."""


RENDERED = """
[...document.querySelectorAll('.plotly-graph-div')]
  .filter(div => div.querySelector('svg.main-svg') && div.querySelector('g.trace')).length
"""


FIRST_PLOT = """
(() => {
  const first = document.querySelector('.plotly-graph-div');
  const titles = [...first.querySelectorAll('.annotation-text')].map(t => t.textContent);
  const beside = first.closest('.opening') !== null
    && document.querySelector('.opening ul.headline') !== null;
  return (beside ? 'beside the headline: ' : '') + titles.join(' | ');
})()
"""


async def open_page(page: Path, profile: Path) -> Opened:
    async with browser(profile) as devtools:
        target = await devtools.call("Target.createTarget", url="about:blank")
        attached = await devtools.call(
            "Target.attachToTarget", targetId=target["targetId"], flatten=True
        )
        session = attached["sessionId"]
        for domain in ("Runtime", "Log", "Page", "Network"):
            await devtools.call(f"{domain}.enable", session)
        await devtools.call("Page.navigate", session, url=page.as_uri())
        plots = rendered = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DEADLINE_S
        # Plotly draws after the load event; wait until every plot div holds its svg.
        while loop.time() < deadline:
            plots = await _evaluate(
                devtools, session, "document.querySelectorAll('.plotly-graph-div').length"
            )
            rendered = await _evaluate(devtools, session, RENDERED)
            if devtools.named("Page.loadEventFired") and plots and rendered == plots:
                break
            await asyncio.sleep(0.2)
        shot = await devtools.call("Page.captureScreenshot", session, format="png")
        first = await devtools.call(
            "Runtime.evaluate", session, expression=FIRST_PLOT, returnByValue=True
        )
        text = await devtools.call(
            "Runtime.evaluate", session, expression="document.body.innerText", returnByValue=True
        )
        errors = [
            *(str(e["exceptionDetails"]) for e in devtools.named("Runtime.exceptionThrown")),
            *(
                str(call["args"])
                for call in devtools.named("Runtime.consoleAPICalled")
                if call["type"] in ("error", "assert")
            ),
            *(
                entry["entry"]["text"]
                for entry in devtools.named("Log.entryAdded")
                if entry["entry"]["level"] == "error"
            ),
        ]
        requests = [sent["request"]["url"] for sent in devtools.named("Network.requestWillBeSent")]
        return Opened(
            plots,
            rendered,
            errors,
            requests,
            base64.b64decode(shot["data"]),
            str(first["result"]["value"]),
            str(text["result"]["value"]),
        )


async def _evaluate(devtools: DevTools, session: str, expression: str) -> int:
    result = await devtools.call(
        "Runtime.evaluate", session, expression=expression, returnByValue=True
    )
    return int(result["result"].get("value", 0))


async def test_report_html_renders_every_plot_offline_without_console_errors(
    scaled_out: Report, tmp_path: Path
) -> None:
    # The scale-out report: every figure a step ramp has, and the scale-out fit's.
    files = write_report(scaled_out, tmp_path / "report")

    opened = await open_page(files.html, tmp_path / "profile")

    assert opened.plots >= 7
    assert opened.rendered == opened.plots
    assert opened.errors == []
    assert [url for url in opened.requests if not url.startswith(LOCAL_SCHEMES)] == []
    assert opened.screenshot.startswith(b"\x89PNG")


async def test_a_sampled_cascade_report_renders_its_timeline_offline_without_console_errors(
    sampled_cascade_run: Path, tmp_path: Path
) -> None:
    files = write_report(load_report(sampled_cascade_run), tmp_path / "report")

    opened = await open_page(files.html, tmp_path / "profile")

    assert opened.plots == 6
    assert opened.rendered == opened.plots
    assert opened.errors == []
    assert [url for url in opened.requests if not url.startswith(LOCAL_SCHEMES)] == []


async def test_the_audit_reads_in_money_and_never_as_an_internal_integer(
    one_worker: Report, tmp_path: Path
) -> None:
    files = write_report(one_worker, tmp_path / "report")

    opened = await open_page(files.html, tmp_path / "profile")

    audit = [line for line in opened.text.splitlines() if ":" in line and _audit_label(line)]
    assert "cash seeded: 30,130,938,662.57000000 USDT" in audit
    assert "insurance fund: 296,362.45665557 USDT" in audit
    # An internal integer is a long run of digits with no separator and no decimal point.
    assert [line for line in audit if re.search(r"(?<![.,\d])\d{5,}(?![.,\d])", line)] == []


def _audit_label(line: str) -> bool:
    return line.partition(":")[0] in {*CASH.values(), *COLLATERAL.values()} or line.startswith(
        ("net position", "journal events")
    )


async def test_the_run_timeline_is_the_first_figure_beside_the_headline(
    one_worker: Report, tmp_path: Path
) -> None:
    files = write_report(one_worker, tmp_path / "report")

    opened = await open_page(files.html, tmp_path / "profile")

    assert opened.first_plot.startswith("beside the headline: ")
    for title in ("load (× baseline)", "p99 latency, corrected (ms)", "liquidations per second"):
        assert title in opened.first_plot
    assert "timeouts breaks" in opened.first_plot
    assert opened.rendered == opened.plots
    assert opened.errors == []


async def test_the_compare_page_and_the_index_render_offline_without_console_errors(
    one_worker: Report, two_workers: Report, tmp_path: Path
) -> None:
    compared = write_compare(
        compare(one_worker, two_workers), one_worker, two_workers, tmp_path / "compare.html"
    )
    runs = tmp_path / "runs"
    shutil.copytree(RUNS_DIR, runs)

    for page, plots in ((compared, 2), (write_index(runs), 1)):
        opened = await open_page(page, tmp_path / f"profile-{page.stem}")

        assert (opened.plots, opened.rendered) == (plots, plots)
        assert opened.errors == []
        assert [url for url in opened.requests if not url.startswith(LOCAL_SCHEMES)] == []
