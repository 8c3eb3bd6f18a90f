"""Each background role's heartbeat, for the health of a process that does not run the role.

A process knows whether its own roles are alive (`liveness.py` looks at their tasks). An API
process beside a roles process (`--workers N`), or in a container of its own, does not, and a
roles process that died (SIGKILL, the OOM killer) tells no one: its cursors just stop, which
with no order queued looks like an idle exchange. So every process renews one short-lived key
per background role it runs (`p:alive:<role>`, expiring after `TTL_MS`) every `INTERVAL_S`, in
one round trip, and removes them when it stops; a process told which roles run elsewhere
(`Settings.peer_roles`) reads their keys at each health check: a key gone is a role whose
process is dead, stopped, or not started yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Collection, Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from exchange_mock.store.keys import Keys
from exchange_mock.store.outage import every

INTERVAL_S = 1.0
TTL_MS = 3_000
"""Three beats: one late beat (a busy machine, a slow round trip) is not a death."""


class Heartbeat:
    """Renews `roles`' keys while `alive()` says the process's roles all run."""

    def __init__(
        self, redis: Redis, keys: Keys, roles: Collection[str], alive: Callable[[], bool]
    ) -> None:
        self._redis = redis
        self._names = [keys.alive(role) for role in sorted(roles)]
        self._alive = alive
        self._pid = os.getpid()

    async def run(self, stop: asyncio.Event) -> None:
        """Beat until `stop` is set, then withdraw; Redis being unreachable skips a beat."""
        try:
            await every("heartbeat", INTERVAL_S, self._beat, stop)
        finally:
            with contextlib.suppress(RedisError):
                await self._redis.delete(*self._names)

    async def _beat(self) -> None:
        if not self._alive():
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for name in self._names:
                pipe.set(name, self._pid, px=TTL_MS)
            await pipe.execute()


async def lapsed(redis: Redis, keys: Keys, roles: Sequence[str]) -> list[str]:
    """Those of `roles` whose heartbeat has lapsed."""
    if not roles:
        return []
    beats = await redis.mget([keys.alive(role) for role in roles])
    return [role for role, beat in zip(roles, beats, strict=True) if beat is None]
