"""A Redis outage on demand, for rehearsing one: for `seconds`, Redis drops every client
connection and refuses new ones, as during a restart or a failover, then takes them again.

Done with Redis itself rather than around it, so it works on any Redis the exchange uses: one
dedicated connection lowers `maxclients` to the connections already open (new ones are refused
with "max number of clients reached"), drops every other client (`CLIENT KILL`), holds the
outage, and restores `maxclients`. That connection is the one client left standing, so the
outage always ends, even though the exchange's own connections are all refused meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import cast

from redis.asyncio import Redis

log = logging.getLogger(__name__)

MAX_SECONDS = 600.0


async def redis_outage(redis: Redis, seconds: float, begun: asyncio.Event) -> None:
    """Hold an outage for `seconds` (see the module's docstring), through a connection of its
    own taken from `redis`'s pool; `begun` is set once every client has been dropped."""
    async with redis.client() as own:
        config = await cast(Awaitable[dict[str, str]], own.config_get("maxclients"))
        limit = config["maxclients"]
        try:
            await own.config_set("maxclients", 1)
            for kind in ("normal", "pubsub"):
                await own.client_kill_filter(_type=kind, skipme=True)
            log.warning("Redis outage for %.1f s begins", seconds)
            begun.set()
            await asyncio.sleep(seconds)
        finally:
            await own.config_set("maxclients", limit)
            log.warning("Redis outage over")
