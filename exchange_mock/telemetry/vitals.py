"""Each exchange process's vitals, once a second, where one look reads them all: the roles it
runs, its CPU, the requests its API edge has in flight and has shed, the orders it shed, and
the round trips of its Redis traffic.

The exchange runs in one process or many (API workers beside a process for the other roles, or
a container per role), and a request to the operator API reaches one of them. So each process
writes its own entry into one Redis hash (`p:vitals`, field: the process's id) on every sample,
and removes it when it stops; `read_vitals` returns the entries no older than a few intervals,
so a process that died without removing its entry drops out. The operator's status endpoint
answers them beside the pipeline's backlog: the whole exchange in one cheap snapshot, which the
harness samples each second to name its bottleneck with numbers.

CPU is this process's (every thread) since the previous sample, in percent of one core: an
asyncio process is busy at 100. Shed counts only grow; a reader takes differences.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import asdict, dataclass
from typing import Protocol, cast

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from exchange_mock.store.keys import Keys
from exchange_mock.store.outage import every
from exchange_mock.store.records import Fields

FRESH_INTERVALS = 3
"""An entry older than this many intervals is a process that no longer reports."""


@dataclass(slots=True)
class RoundTrips:
    """This process's Redis round trips since they were last taken: counted by each measured
    connection as a reply completes one, taken by the reporter."""

    count: int = 0
    seconds: float = 0.0
    slowest: float = 0.0

    def add(self, seconds: float) -> None:
        self.count += 1
        self.seconds += seconds
        self.slowest = max(self.slowest, seconds)

    def take(self) -> RoundTrips:
        """What was counted since the last take; counting starts again from nothing."""
        taken = RoundTrips(self.count, self.seconds, self.slowest)
        self.count, self.seconds, self.slowest = 0, 0.0, 0.0
        return taken


class EdgeLoad(Protocol):
    """What the API edge of a process counts (`api.middleware.Edge`)."""

    @property
    def in_flight(self) -> int: ...

    @property
    def capacity(self) -> int: ...

    @property
    def shed(self) -> int: ...


class ShedOrders(Protocol):
    """What the command bus of a process counts (`store.bus.CommandBus`)."""

    @property
    def shed(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Vitals:
    """One process at one moment (see the module's docstring)."""

    process: str
    roles: tuple[str, ...]
    at_ms: int
    cpu_pct: float
    """Percent of one core since the previous sample."""
    requests_in_flight: int | None
    """None in a process without the API."""
    request_capacity: int | None
    requests_shed: int
    """Requests answered 503 at once, over the concurrency cap, since the process started."""
    orders_shed: int
    """New orders refused (-1008) with the engine's queue too deep, since the process started."""
    redis_round_trips: int
    """Round trips of the exchange's own Redis traffic since the previous sample."""
    redis_rtt_ms: float | None
    """Their mean; None when there were none."""
    redis_rtt_max_ms: float | None


class VitalsReporter:
    """Writes this process's vitals every `interval_ms` until stopped (see the module)."""

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        process: str,
        roles: Collection[str],
        round_trips: RoundTrips,
        orders: ShedOrders,
        interval_ms: int,
        *,
        clock: Callable[[], float] = time.time,
        cpu_clock: Callable[[], float] = time.process_time,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._process = process
        self._roles = tuple(sorted(roles))
        self._round_trips = round_trips
        self._orders = orders
        self._interval_s = interval_ms / 1000
        self._clock = clock
        self._cpu_clock = cpu_clock
        self._edge: EdgeLoad | None = None
        self._since = (clock(), cpu_clock())

    def attach_edge(self, edge: EdgeLoad) -> None:
        """Report `edge`'s requests too: an API process builds its edge after its node."""
        self._edge = edge

    def sample(self) -> Vitals:
        """This process's vitals now, CPU and round trips since the previous sample."""
        now, cpu = self._clock(), self._cpu_clock()
        wall = now - self._since[0]
        busy = 100 * (cpu - self._since[1]) / wall if wall > 0 else 0.0
        self._since = (now, cpu)
        trips = self._round_trips.take()
        edge = self._edge
        return Vitals(
            process=self._process,
            roles=self._roles,
            at_ms=int(now * 1000),
            cpu_pct=round(busy, 1),
            requests_in_flight=None if edge is None else edge.in_flight,
            request_capacity=None if edge is None else edge.capacity,
            requests_shed=0 if edge is None else edge.shed,
            orders_shed=self._orders.shed,
            redis_round_trips=trips.count,
            redis_rtt_ms=_ms(trips.seconds / trips.count) if trips.count else None,
            redis_rtt_max_ms=_ms(trips.slowest) if trips.count else None,
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Report until `stop` is set, then withdraw; Redis being unreachable skips a sample."""
        try:
            await every("vitals", self._interval_s, self._report, stop)
        finally:
            with contextlib.suppress(RedisError):
                await self._redis.hdel(self._keys.vitals, self._process)  # type: ignore[misc]

    async def _report(self) -> None:
        entry = {self._process: orjson.dumps(asdict(self.sample()))}
        await self._redis.hset(self._keys.vitals, mapping=entry)  # type: ignore[misc]


async def read_vitals(redis: Redis, keys: Keys, now_ms: int, interval_ms: int) -> list[Vitals]:
    """Every process's last vitals no older than `FRESH_INTERVALS` intervals, by process id."""
    entries = await cast(Awaitable[Fields], redis.hgetall(keys.vitals))
    oldest = now_ms - FRESH_INTERVALS * max(interval_ms, 1_000)
    found = []
    for _, raw in sorted(entries.items()):
        fields = orjson.loads(raw)
        vitals = Vitals(**{**fields, "roles": tuple(fields["roles"])})
        if vitals.at_ms >= oldest:
            found.append(vitals)
    return found


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)
