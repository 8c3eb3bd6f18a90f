"""Every start mode resolves the client address the same way: with no trusted proxy configured,
a forged X-Forwarded-For is not believed, whichever API worker process answers."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from exchange_mock.redis_server import EmbeddedRedis, free_port
from exchange_mock.server import exchange_process
from exchange_mock.settings import Settings
from tests.integration.conftest import exchange_settings


@pytest.fixture(scope="module")
def two_workers(redis_server: EmbeddedRedis) -> Iterator[Settings]:
    settings = exchange_settings(
        redis_server, f"client-address-{time.time_ns()}", port=free_port(), makers=0,
        api_workers=2,
    )  # fmt: skip
    with exchange_process(settings):
        yield settings


def test_forged_forwarded_addresses_share_the_peers_weight_at_two_workers(
    two_workers: Settings,
) -> None:
    """Were each forged address believed, each would get a fresh counter (weight 1): that is
    how a client sheds rate limits and bans."""
    used = []
    no_reuse = httpx.Limits(max_keepalive_connections=0)  # each request may reach either worker
    with httpx.Client(base_url=f"http://127.0.0.1:{two_workers.port}", limits=no_reuse) as http:
        for n in range(8):
            forged = {"X-Forwarded-For": f"198.51.100.{n + 1}"}
            response = http.get("/fapi/v1/ping", headers=forged)
            used.append(int(response.headers["X-MBX-USED-WEIGHT-1M"]))

    assert max(used) >= 8, used
