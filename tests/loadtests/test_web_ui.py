"""The web UI as a user meets it: `stampede run PROFILE --web-port P` starts the embedded mock
and Locust's web UI with its host filled in and the demo's defaults; a run started and stopped
there over HTTP writes its report, which the UI links and serves."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from exchange_mock.redis_server import free_port
from loadtests.options import CLIENT_IPS, CLIENT_TIMEOUT_S
from loadtests.webui import link
from tests.loadtests.runs import profile_file

STAMPEDE = Path(sys.executable).parent / "stampede"
START_TIMEOUT_S = 90
"""The mock's start and settling, then Locust's."""
TEMPLATE_ARGS = re.compile(r"window\.templateArgs = (.*)")


@pytest.fixture
def web_ui(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`stampede run` serving the web UI on a free loopback port: its URL and run directory."""
    profile = profile_file(
        tmp_path,
        "web",
        {"orders": 5, "queries": 5, "market_data": 5},
        ["{name: calm, duration_s: 30, multipliers: {orders: 1, queries: 1, market_data: 1}}"],
    )
    port, out = free_port(), tmp_path / "run"
    command = [str(STAMPEDE), "run", str(profile), "--web-port", str(port), "--out", str(out)]
    log = (tmp_path / "stampede.log").open("wb")
    stampede = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers(url):
            assert stampede.poll() is None, (tmp_path / "stampede.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the web UI did not come up"
            time.sleep(0.5)
        yield url, out
    finally:
        stampede.send_signal(signal.SIGINT)
        try:
            stampede.wait(timeout=60)
        except subprocess.TimeoutExpired:
            stampede.kill()
            stampede.wait()
        log.close()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _template_args(http: httpx.Client) -> dict[str, Any]:
    page = http.get("/")
    page.raise_for_status()
    found = TEMPLATE_ARGS.search(page.text)
    assert found is not None, page.text[:2000]
    args: dict[str, Any] = json.loads(found.group(1))
    return args


def test_a_run_from_the_web_ui_writes_its_report_and_links_it(web_ui: tuple[str, Path]) -> None:
    url, out = web_ui
    with httpx.Client(base_url=url, timeout=30) as http:
        before = _template_args(http)
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", before["host"]), "the mock's, filled in"
        extra = before["extra_options"]
        assert extra["client_ips"]["default_value"] == CLIENT_IPS
        assert extra["client_timeout"]["default_value"] == CLIENT_TIMEOUT_S
        assert "extended_csv_files" not in before

        started = http.post("/swarm", data={"user_count": "1", "spawn_rate": "1"})
        assert started.json()["success"], started.text
        time.sleep(5)
        assert http.post("/stop").json()["success"]

        deadline = time.monotonic() + 60
        while not (out / "report.html").exists():
            assert time.monotonic() < deadline, "no report written"
            time.sleep(0.5)
        time.sleep(0.5)  # the link follows the report's last file
        (entry,) = _template_args(http)["extended_csv_files"]
        report = http.get(entry["href"])

    assert entry == {"href": link(out.name), "title": f"Capacity report: {out.name}"}
    assert report.status_code == 200
    assert "<title>Capacity report: run</title>" in report.text
    # Stopped early, the run is partial but whole: its steps, and the samples it took.
    assert (out / "steps.jsonl").exists() and (out / "exchange.jsonl").exists()
