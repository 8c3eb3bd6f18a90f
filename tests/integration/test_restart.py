"""Kill the engine (SIGKILL) in the middle of a burst and start it again: no acknowledged order
is lost, none is applied twice, and money is still conserved."""

from __future__ import annotations

import asyncio
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
from exchange_mock.server import exchange_process, settings_env
from exchange_mock.settings import Role, Settings
from exchange_mock.store.keys import Keys
from tests.integration.burst import burst, check_books, journaled_order_ids, quiet_audit
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


async def test_engine_restarts_from_a_snapshot_and_a_trimmed_journal(
    redis_server: EmbeddedRedis,
) -> None:
    """With snapshots every half second the journal is trimmed below its readers, and an engine
    killed mid-burst comes back from the latest snapshot: no order lost, none applied twice, no
    order id given out twice, money conserved."""
    settings = exchange_settings(
        redis_server,
        f"snapshot-{time.time_ns()}",
        port=free_port(),
        ack_timeout_ms=1_000,
        snapshot_interval_ms=500,
        roles=frozenset({Role.API, Role.PROJECTOR, Role.MAKERS, Role.FEEDS}),
    )
    url = f"http://127.0.0.1:{settings.port}"
    keys = Keys(settings.key_prefix)
    accounts = AccountBook.from_settings(settings)
    redis = Redis.from_url(str(settings.redis_url))
    with exchange_process(settings):
        engine = start_engine(settings)
        try:
            await asyncio.to_thread(wait_for_books, url)
            first = await burst(url, accounts.traders, orders=1_500, seed=4)
            head = int(await redis.get(keys.journal_head) or 0)
            async with asyncio.timeout(10):
                while await redis.xlen(keys.journal) >= head:
                    await asyncio.sleep(0.1)
            running = asyncio.create_task(burst(url, accounts.traders, orders=1_500, seed=5))
            await asyncio.sleep(0.5)
            engine.kill()
            engine.wait()
            engine = start_engine(settings)
            second = await running
            report = await quiet_audit(redis, keys, accounts.accounts)
            stored = {
                int(key.rsplit(b":", 1)[1])
                async for key in redis.scan_iter(match=f"{keys.prefix}:order:*", count=1_000)
            }
            journaled = await journaled_order_ids(redis, keys)
        finally:
            engine.terminate()
            engine.wait(timeout=10)
            await redis.aclose()
    assert second.statuses.get(200, 0) > 500, second.statuses
    assert not first.acknowledged & second.acknowledged
    assert first.acknowledged | second.acknowledged <= stored
    assert not [i for i, n in Counter(journaled).items() if n > 1]
    assert report.cash_conserved and report.positions_balanced, report
