"""Two API worker processes in front of one engine: the pipeline holds across processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from redis.asyncio import Redis

from exchange_mock.accounts import AccountBook
from exchange_mock.redis_server import EmbeddedRedis, free_port
from exchange_mock.server import settings_env, wait_until_serving
from exchange_mock.settings import Settings
from exchange_mock.store.keys import Keys
from tests.integration.burst import burst, journaled_order_ids, quiet_audit
from tests.integration.conftest import exchange_settings, wait_for_books
from tests.integration.signed import SignedClient


@pytest.fixture
def two_workers(redis_server: EmbeddedRedis) -> Iterator[Settings]:
    """`stampede exchange --workers 2`, exactly as a user starts it."""
    settings = exchange_settings(redis_server, f"workers-{time.time_ns()}", port=free_port())
    process = subprocess.Popen(
        [sys.executable, "-c", "from loadtests.cli import main; main()", "exchange",
         "--workers", "2"],
        env={**os.environ, **settings_env(settings)},
    )  # fmt: skip
    try:
        wait_until_serving(f"http://127.0.0.1:{settings.port}")
        wait_for_books(f"http://127.0.0.1:{settings.port}")
        yield settings
    finally:
        process.terminate()
        process.wait(timeout=15)


async def test_two_api_workers_share_one_engine_and_conserve(two_workers: Settings) -> None:
    settings = two_workers
    keys = Keys(settings.key_prefix)
    redis = Redis.from_url(str(settings.redis_url))
    accounts = AccountBook.from_settings(settings)
    try:
        channels = await redis.pubsub_channels(keys.reply("*"))
        # Two API workers plus the background process (its makers use the bus too).
        assert len(channels) == 3, channels
        result = await burst(
            f"http://127.0.0.1:{settings.port}", accounts.traders, orders=2_000, seed=3
        )
        assert result.statuses.get(200, 0) > 700, result.statuses
        report = await quiet_audit(redis, keys, accounts.accounts)
        journaled = await journaled_order_ids(redis, keys)
        assert result.acknowledged <= set(journaled)
        assert not [i for i, n in Counter(journaled).items() if n > 1]
        assert report.cash_conserved and report.positions_balanced, report
    finally:
        await redis.aclose()


async def test_one_client_order_id_places_one_order_across_workers(two_workers: Settings) -> None:
    """A client retrying after -1007, or racing itself on two connections, gets one order."""
    url = f"http://127.0.0.1:{two_workers.port}"
    trader = AccountBook.from_settings(two_workers).traders[0]
    no_reuse = httpx.Limits(max_keepalive_connections=0)  # the tries reach both workers
    async with httpx.AsyncClient(base_url=url, limits=no_reuse, timeout=30) as http:
        client = SignedClient(http, trader)
        depth = (await http.get("/fapi/v1/depth", params={"symbol": "BTCUSDT"})).json()
        price = (Decimal(depth["bids"][0][0]) * Decimal("0.97")).quantize(Decimal("0.1"))
        order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                 "quantity": "0.002", "price": str(price),
                 "newClientOrderId": "only-once"}  # fmt: skip
        tries = await asyncio.gather(
            *(client.send("POST", "/fapi/v1/order", **order) for _ in range(8))
        )

    answers = Counter((r.status_code, r.json().get("code")) for r in tries)
    assert answers == {(200, None): 1, (400, -4116): 7}, answers
