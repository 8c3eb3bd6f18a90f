"""A role's process crashing, on demand: the process running the engine or the projector is
killed with SIGKILL (nothing flushed, nothing unwound, as the kernel's OOM killer or a
segfault ends a process) and its supervisor starts it again, which recovers from the journal.

The order travels through Redis (`p:crash:<role>`), so it reaches the role wherever it runs: a
process beside the API workers (`--workers 2`, restarted by `supervisor.py`) or a container of
its own (restarted by its restart policy). A process that also serves the API never listens:
killing it would end the exchange with no one to start it again, so the operator API refuses
a crash the node could not survive, rather than pretend.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Collection
from typing import cast

from redis.asyncio import Redis

from exchange_mock.store.keys import Keys

log = logging.getLogger(__name__)

LISTEN_S = 0.2
"""How long one wait for an order lasts before the loop looks at `stop` again: a stopping
process waits for it."""


async def order_crash(redis: Redis, keys: Keys, role: str) -> int:
    """Order the process running `role` to crash; the number of processes that heard it."""
    return await cast(Awaitable[int], redis.publish(keys.crash(role), role))


class CrashOrders:
    """Listens for crash orders to this process's roles, and obeys the first one."""

    def __init__(self, redis: Redis, keys: Keys, roles: Collection[str]) -> None:
        self._redis = redis
        self._channels = [keys.crash(role) for role in sorted(roles)]

    async def run(self, stop: asyncio.Event) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(*self._channels)
        try:
            while not stop.is_set():
                order = await pubsub.get_message(ignore_subscribe_messages=True, timeout=LISTEN_S)
                if order is not None:
                    log.warning("ordered to crash (%s): SIGKILL", order["data"].decode())
                    os.kill(os.getpid(), signal.SIGKILL)
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
