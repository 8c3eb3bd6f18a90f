"""Whether the exchange is doing its job, for health checks: a process that answers but whose
engine stopped is not healthy, and a restart policy only acts on a check that says so.

Unhealthy when any of these holds:

- Redis does not answer a PING within the Redis timeout;
- a role of this process has ended (it also ends the process, see `Node`);
- a role another process runs for the exchange (`peer_roles`) has no heartbeat: its process
  died, or has not started (`heartbeat.py`);
- the engine has commands queued and has taken none for `stuck_after_ms`;
- the projector trails the journal and has applied nothing for `stuck_after_ms`.

The last two are read from Redis, so any process of the exchange reports them, whichever
process runs those roles. Progress is a cursor that moved since the previous check; a check
remembers what it saw, so "stuck" needs checks at least `stuck_after_ms` apart to be seen.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Collection
from dataclasses import dataclass, field
from typing import cast

from redis.asyncio import Redis

from exchange_mock.heartbeat import lapsed
from exchange_mock.store.backlog import backlog
from exchange_mock.store.keys import Keys
from exchange_mock.store.outage import REDIS_DOWN, OutageLog


@dataclass(slots=True)
class _Progress:
    """A cursor and when it last moved (monotonic seconds)."""

    value: object = None
    moved_at: float = field(default_factory=time.monotonic)

    def seen(self, value: object, now: float) -> float:
        """Record the cursor; seconds since it last moved."""
        if value != self.value:
            self.value, self.moved_at = value, now
        return now - self.moved_at


@dataclass(frozen=True, slots=True)
class RoleTask:
    name: str
    task: asyncio.Task[None]
    outage: OutageLog

    def state(self) -> str:
        if self.task.done():
            return "dead"
        return "reconnecting" if self.outage.since is not None else "running"


class Liveness:
    def __init__(
        self, redis: Redis, keys: Keys, stuck_after_ms: int, peer_roles: Collection[str] = ()
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._stuck_after_s = stuck_after_ms / 1000
        self._peer_roles = sorted(peer_roles)
        self.roles: list[RoleTask] = []
        self._engine = _Progress()
        self._projector = _Progress()

    def roles_running(self) -> bool:
        """Whether every role of this process is still running (reconnecting included)."""
        return all(role.state() != "dead" for role in self.roles)

    async def check(self) -> tuple[bool, dict[str, object]]:
        """Healthy or not, and the report that says why."""
        roles = {role.name: role.state() for role in self.roles}
        report: dict[str, object] = {"roles": roles}
        problems = [f"{name} is dead" for name, state in roles.items() if state == "dead"]
        try:
            await cast(Awaitable[bool], self._redis.ping())
            behind = await backlog(self._redis, self._keys, int(time.time() * 1000))
            cursor = await self._redis.get(self._keys.engine_cursor)
            silent = await lapsed(self._redis, self._keys, self._peer_roles)
        except REDIS_DOWN as error:
            report["redis"] = f"unreachable: {error}"
            problems.append("Redis is unreachable")
        else:
            report["redis"] = "ok"
            for role in self._peer_roles:
                roles[role] = "dead" if role in silent else "running"
            problems.extend(f"{role} is dead: no heartbeat from its process" for role in silent)
            now = time.monotonic()
            engine_idle_s = self._engine.seen(cursor, now)
            projector_idle_s = self._projector.seen(behind.projected_seq, now)
            report["engine"] = {
                "ordersQueued": behind.orders_queued,
                "sinceProgressMs": round(engine_idle_s * 1000),
            }
            report["projector"] = {
                "lagEvents": behind.projector_lag_events,
                "lagMs": behind.projector_lag_ms,
                "sinceProgressMs": round(projector_idle_s * 1000),
            }
            if behind.orders_queued and engine_idle_s >= self._stuck_after_s:
                problems.append(f"the engine has taken no command for {engine_idle_s:.0f} s")
            if behind.projector_lag_events and projector_idle_s >= self._stuck_after_s:
                problems.append(f"the projector has applied nothing for {projector_idle_s:.0f} s")
        report["status"] = "ok" if not problems else "; ".join(problems)
        return not problems, report
