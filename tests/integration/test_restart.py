"""Kill the engine (SIGKILL) in the middle of a burst and start it again: no acknowledged order
is lost, none is applied twice, and money is still conserved."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from exchange_mock.accounts import AccountBook
from exchange_mock.redis_server import EmbeddedRedis, free_port
from exchange_mock.server import exchange_process, settings_env
from exchange_mock.settings import Role, Settings
from tests.integration.burst import burst, check_books
from tests.integration.conftest import exchange_settings, wait_for_books


def start_engine(settings: Settings) -> subprocess.Popen[bytes]:
    engine_only = settings.model_copy(update={"roles": frozenset({Role.ENGINE})})
    return subprocess.Popen(
        [sys.executable, "-m", "exchange_mock"], env={**os.environ, **settings_env(engine_only)}
    )


@pytest.fixture
def split_exchange(redis_server: EmbeddedRedis) -> Iterator[Settings]:
    """API, projector and makers in one process; the engine in a process we can kill."""
    settings = exchange_settings(
        redis_server,
        f"restart-{time.time_ns()}",
        port=free_port(),
        ack_timeout_ms=1_000,
        roles=frozenset({Role.API, Role.PROJECTOR, Role.MAKERS}),
    )
    with exchange_process(settings):
        yield settings


async def test_engine_killed_mid_burst_loses_and_repeats_nothing(split_exchange: Settings) -> None:
    settings = split_exchange
    url = f"http://127.0.0.1:{settings.port}"
    engine = start_engine(settings)
    try:
        await asyncio.to_thread(wait_for_books, url)
        accounts = AccountBook.from_settings(settings)
        running = asyncio.create_task(burst(url, accounts.traders, orders=3_000, seed=2))
        await asyncio.sleep(1.0)
        engine.kill()
        engine.wait()
        await asyncio.sleep(0.5)
        engine = start_engine(settings)
        result = await running
        assert result.statuses.get(408, 0) > 0, f"the kill did not land mid-burst: {result}"
        assert result.statuses.get(200, 0) > 1_000, result.statuses
        await check_books(settings, result)
    finally:
        engine.terminate()
        engine.wait(timeout=10)
