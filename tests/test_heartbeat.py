"""A role's heartbeat says its process is alive to processes that cannot see it: renewed while
the process's roles run, gone soon after they stop, whether they stopped cleanly or not."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from exchange_mock.heartbeat import TTL_MS, Heartbeat, lapsed
from exchange_mock.liveness import Liveness
from exchange_mock.store.keys import Keys


@asynccontextmanager
async def beating(
    redis: Redis, keys: Keys, roles: set[str], alive: Callable[[], bool] = lambda: True
) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(Heartbeat(redis, keys, roles, alive).run(stop))
    try:
        await asyncio.sleep(0.1)
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=5)


async def test_a_running_process_keeps_its_roles_keys_alive_for_a_few_seconds(
    redis: Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    async with beating(redis, keys, {"engine", "projector"}):
        assert await lapsed(redis, keys, ["engine", "projector", "feeds"]) == ["feeds"]
        ttl_ms = await redis.pttl(keys.alive("engine"))
        assert TTL_MS - 1_000 < ttl_ms <= TTL_MS


async def test_a_process_that_stops_withdraws_its_heartbeat_at_once(
    redis: Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    async with beating(redis, keys, {"engine"}):
        pass
    assert await lapsed(redis, keys, ["engine"]) == ["engine"]


async def test_a_process_whose_role_died_stops_beating(redis: Redis, key_prefix: str) -> None:
    keys = Keys(key_prefix)
    async with beating(redis, keys, {"engine"}, alive=lambda: False):
        assert await lapsed(redis, keys, ["engine"]) == ["engine"]


async def test_health_names_the_peer_roles_whose_heartbeat_lapsed(
    redis: Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    liveness = Liveness(redis, keys, stuck_after_ms=30_000, peer_roles=["engine", "feeds"])
    async with beating(redis, keys, {"engine"}):
        healthy, report = await liveness.check()
    assert not healthy
    assert report["roles"] == {"engine": "running", "feeds": "dead"}
    assert report["status"] == "feeds is dead: no heartbeat from its process"
    async with beating(redis, keys, {"engine", "feeds"}):
        healthy, report = await liveness.check()
    assert healthy, report
