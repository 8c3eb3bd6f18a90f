"""Loops that outlive their Redis connection.

Redis restarts, fails over, or drops its clients (`CLIENT KILL`); a loop that ended with its
connection would leave the API up and the pipeline behind it dead. `keep_running` runs a loop
again once Redis answers: every loop begins by reading where it stands from Redis (its cursor;
the engine rebuilds itself from the journal), so a rerun resumes and never applies anything
twice. Retries back off, jittered so a restarted Redis is not met by every process at once, and
capped so recovery follows soon after Redis does. An outage is logged once, and so is its end.
A loop that only samples (`every`) does not restart: it skips the samples Redis cannot take.

Redis out of memory (it runs with a limit and no eviction) refuses writes but answers: loops
treat it as an outage, and the API as an overload, so nothing crashes and nothing stored
silently disappears.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

REDIS_DOWN: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError)
"""What Redis being unreachable (refused, dropped, timed out, still loading) raises."""


def out_of_memory(error: BaseException) -> bool:
    """Redis refused a write over its memory limit: said plainly, or from inside a script."""
    return isinstance(error, OutOfMemoryError) or (
        isinstance(error, RedisError) and "OOM command not allowed" in str(error)
    )


class Unreachable(RedisConnectionError):
    """No connection to Redis could be made, so the command was never sent: unlike a connection
    lost mid-command, its effect is known (none)."""


@dataclass(frozen=True, slots=True)
class Backoff:
    """Waits between attempts to reach Redis: doubling from `first_s` up to `cap_s`, each drawn
    between half and all of that."""

    first_s: float = 0.05
    cap_s: float = 1.0

    def delay_s(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.cap_s, self.first_s * 2 ** min(attempt, 30))
        return rng.uniform(ceiling / 2, ceiling)


class OutageLog:
    """Logs an outage once when it begins and once when it ends, however many failures and
    retries fall between."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.since: float | None = None
        """When the current outage began (monotonic); None while Redis answers."""

    def lost(self, error: BaseException) -> None:
        if self.since is None:
            self.since = time.monotonic()
            log.warning("%s: Redis unreachable (%s); retrying", self.name, error)

    def back(self) -> None:
        if self.since is not None:
            log.warning(
                "%s: Redis reachable again after %.1f s; resuming",
                self.name,
                time.monotonic() - self.since,
            )
            self.since = None


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less when `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stop.wait()


async def keep_running(
    name: str,
    run: Callable[[asyncio.Event], Awaitable[None]],
    stop: asyncio.Event,
    redis: Redis,
    outage: OutageLog | None = None,
    backoff: Backoff = Backoff(),
    rng: random.Random | None = None,
) -> None:
    """Run `run(stop)` until it returns; whenever it fails because Redis is unreachable, wait
    until `redis` answers a PING and run it again from the start; out of memory, after a pause
    that grows while it lasts. Other errors end it. The outage in progress, if any, shows in
    `outage`."""
    outage = outage or OutageLog(name)
    rng = rng or random.Random()
    full = 0
    while not stop.is_set():
        try:
            await run(stop)
            return
        except RedisError as error:
            if not (isinstance(error, REDIS_DOWN) or out_of_memory(error)):
                raise
            outage.lost(error)
            full = full + 1 if out_of_memory(error) else 0
        attempt = full
        while not stop.is_set():
            await pause(stop, backoff.delay_s(attempt, rng))
            try:
                await cast(Awaitable[bool], redis.ping())
                break
            except REDIS_DOWN:
                attempt += 1
        if not stop.is_set():
            outage.back()


async def every(
    name: str, interval_s: float, sample: Callable[[], Awaitable[None]], stop: asyncio.Event
) -> None:
    """Call `sample()` every `interval_s` until `stop` is set. Redis unreachable or full skips
    a sample and is logged once per outage; any other Redis error skips one with a warning. A
    sampler (metrics, vitals) loses a second, never its loop."""
    outage = OutageLog(name)
    while not stop.is_set():
        try:
            await sample()
            outage.back()
        except RedisError as error:
            if isinstance(error, REDIS_DOWN) or out_of_memory(error):
                outage.lost(error)
            else:
                log.warning("%s: sample failed, sampling again later", name, exc_info=True)
        await pause(stop, interval_s)
