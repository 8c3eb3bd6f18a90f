"""A Redis restart on demand, for rehearsing one: the embedded Redis shuts down (its
append-only file flushed and synced), stays down `seconds`, and starts again on the same port
from the same file, so every client is dropped and what Redis acknowledged is all still there.

Done by Redis itself (`DEBUG RESTART <ms>`: it closes every connection, waits, and executes
itself again with its own command line), so it works from any process of the exchange, not
only from the one that started the server. Only a Redis the exchange started may be restarted:
the embedded server, which allows the command from loopback; a Redis of the user's own
(`REDIS_URL`) is not the mock's to restart, and the operator API refuses it.
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis

from exchange_mock.store.outage import REDIS_DOWN

log = logging.getLogger(__name__)

MAX_SECONDS = 600.0


class RestartRefused(Exception):
    """Redis answered the restart instead of restarting: it refuses DEBUG, or cannot restart."""


async def redis_restart(redis: Redis, seconds: float) -> None:
    """Restart the Redis behind `redis`, down for `seconds`; returns once it went down."""
    log.warning("Redis restart: down for %.1f s, then back from its append-only file", seconds)
    async with redis.client() as own:
        try:
            answer = await own.execute_command(  # type: ignore[no-untyped-call]
                "DEBUG", "RESTART", round(seconds * 1000)
            )
        except REDIS_DOWN:
            return  # the connection closed under the command: the restart is under way
        except Exception as refused:
            raise RestartRefused(str(refused)) from refused
    raise RestartRefused(f"Redis answered {answer!r} and did not restart")
