"""Two API worker processes in front of one engine: the pipeline holds across processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from redis.asyncio import Redis

from exchange_mock.accounts import AccountBook
from exchange_mock.redis_server import EmbeddedRedis, free_port
from exchange_mock.server import settings_env, wait_until_serving
from exchange_mock.settings import Settings
from exchange_mock.store.keys import Keys
from tests.integration.burst import burst, journaled_order_ids, quiet_audit
from tests.integration.conftest import exchange_settings, wait_for_books


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
