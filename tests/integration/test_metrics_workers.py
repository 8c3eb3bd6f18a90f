"""`stampede exchange --workers N`: several processes behind one port, and any API worker's
`GET /metrics` reports all of them, the engine's process included."""

from __future__ import annotations

import time

import httpx

from exchange_mock.redis_server import EmbeddedRedis, free_port
from exchange_mock.server import exchange_process
from tests.integration.conftest import exchange_settings

REQUESTS = 'stampede_exchange_requests_total{endpoint="unmatched",method="GET",status="404"}'


def _value(text: str, sample: str) -> float:
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_any_worker_scraped_reports_every_process(redis_server: EmbeddedRedis) -> None:
    settings = exchange_settings(
        redis_server, f"mw-{time.time_ns()}", port=free_port(), api_workers=2
    )
    with exchange_process(settings):
        url = f"http://127.0.0.1:{settings.port}"
        deadline = time.monotonic() + 20
        # The engine runs in the roles' own process; its sampled queue depth reaches the
        # workers' /metrics through the shared directory.
        while "stampede_exchange_order_queue_depth " not in httpx.get(f"{url}/metrics").text:
            assert time.monotonic() < deadline, "the engine's process never reported"
            time.sleep(0.2)
        assert "stampede_exchange_engine_events_total " in httpx.get(f"{url}/metrics").text
        before = _value(httpx.get(f"{url}/metrics").text, REQUESTS)
        for n in range(30):  # a connection each, spread over the workers by the kernel
            assert httpx.get(f"{url}/nothing-here/{n}").status_code == 404
        for _ in range(4):
            assert _value(httpx.get(f"{url}/metrics").text, REQUESTS) == before + 30
