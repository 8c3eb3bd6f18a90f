"""One load generator's share of a run: what its users need, built once when the run starts.

It holds the pacers (this generator's share of every class's intended send times), the metrics
its users record (shipped to the master as deltas), the accounts and client addresses its users
act as, the market's rules and marks, and the staleness trackers of its probe accounts. Users
find it through their Locust environment (`context_of`).
"""

from __future__ import annotations

import bisect
import ipaddress
import itertools
import time
import weakref
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from loadtests.accounts import ApiAccount, share
from loadtests.metrics import Metrics, MetricsWire, SeriesKey, Tally
from loadtests.moments import Moment, Moments
from loadtests.options import RunPlan
from loadtests.pacing import Pacer, RateSchedule
from loadtests.profiles import RequestClass
from loadtests.sizing import ClassFeedback
from loadtests.staleness import StalenessTracker
from loadtests.users.market import Connection
from loadtests.users.retry import Holds, RetryPolicy

FIRST_CLIENT_IP = int(ipaddress.IPv4Address("198.18.0.0"))
"""Client addresses come from 198.18.0.0/15 (RFC 2544), set aside for benchmarking: they can
never be a real client's."""
LATENCY_WEIGHT = 0.1
"""Weight of each new sample in the moving average of raw latency the user sizing reads."""


def client_address(index: int) -> str:
    return str(ipaddress.IPv4Address(FIRST_CLIENT_IP + index))


class Shipment(BaseModel):
    """What a load generator reports: metrics since its last report, and how it keeps up."""

    model_config = ConfigDict(extra="forbid")

    metrics: MetricsWire
    moments: list[Moment] = []
    feedback: dict[RequestClass, ClassFeedback]
    final: bool = False
    """The generator's last report of the run: nothing more will come."""


class _ClassState:
    __slots__ = ("exhausted", "in_flight", "latency_s", "pacer")

    def __init__(self, schedule: RateSchedule, origin: float, stride: int, offset: int) -> None:
        self.pacer = Pacer(schedule, origin=origin, stride=stride, offset=offset)
        self.exhausted = schedule.total == 0
        self.in_flight = 0
        self.latency_s = 0.0


class LoadContext:
    """This process's share of the run, and everything its users share."""

    def __init__(
        self,
        plan: RunPlan,
        connection: Connection,
        *,
        stride: int = 1,
        offset: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.plan = plan
        self.timeline = plan.timeline()
        self.market = connection.market
        self.clock_offset_ms = connection.clock_offset_ms
        self.clock = clock
        self.metrics = Metrics()
        self.moments = Moments()
        """Outcomes by tenth of a second, for the report's times to recover."""
        self._stride, self._offset = stride, offset
        self.traders = share(plan.accounts.traders, stride=stride, offset=offset)
        self.probes: tuple[ApiAccount, ...] = plan.accounts.probes[offset::stride]
        self.end = plan.origin + self.timeline.duration
        self._ends = [plan.origin + window.end for window in self.timeline.windows]
        """When each step ends, on the clock: a send belongs to the first step ending after it."""
        self._classes = {
            klass: _ClassState(
                RateSchedule.for_class(self.timeline, klass), plan.origin, stride, offset
            )
            for klass in RequestClass
        }
        self.trackers = {
            symbol: StalenessTracker(self.market.quantity(symbol)) for symbol in self.market.symbols
        }
        self.retry = RetryPolicy(plan.options.retry)
        self.holds = Holds(self.retry)
        """Shared by the users of one process, which speak for the same client addresses."""
        self._keys: dict[tuple[int, str, str | None], SeriesKey] = {}
        self._numbers = itertools.count()
        self.stopped = False
        self.shipped_final = False

    def running(self, at: float) -> bool:
        """Whether the run still wants load at `at` (seconds since the epoch)."""
        return not self.stopped and at < self.end

    def next_number(self) -> int:
        """A number for a new user of this generator, to pick its account and address."""
        return next(self._numbers)

    def client_ip(self, number: int) -> str | None:
        """The client address user `number` speaks for; None without `--client-ips`."""
        count = self.plan.options.client_ips
        if count == 0:
            return None
        return client_address((number * self._stride + self._offset) % count)

    def trader(self, number: int) -> ApiAccount:
        return self.traders[number % len(self.traders)]

    def tally(self, series: str, at: float, symbol: str | None = None) -> Tally:
        """The tally of `series` for the step holding `at` (clamped to the run's steps)."""
        index = min(bisect.bisect_right(self._ends, at), len(self._ends) - 1)
        key = self._keys.get((index, series, symbol))
        if key is None:
            key = SeriesKey(index, self.timeline.windows[index].name, series, symbol)
            self._keys[(index, series, symbol)] = key
        return self.metrics.tally(key)

    def claim(self, klass: RequestClass) -> float | None:
        """The next intended send time of `klass` for this generator; None when none is left."""
        state = self._classes[klass]
        intended = None if self.stopped else state.pacer.claim()
        if intended is None:
            state.exhausted = True
        return intended

    def started(self, klass: RequestClass) -> None:
        """A user took on a request: it is in flight until `finished`, retries included."""
        self._classes[klass].in_flight += 1

    def sent(self, klass: RequestClass, intended: float, at: float) -> None:
        self._classes[klass].pacer.sent(intended, at)

    def finished(self, klass: RequestClass, raw_s: float) -> None:
        state = self._classes[klass]
        state.in_flight -= 1
        state.latency_s += (raw_s - state.latency_s) * LATENCY_WEIGHT

    def drained(self) -> bool:
        """Every send of this share is done and answered."""
        return all(state.exhausted and state.in_flight == 0 for state in self._classes.values())

    def feedback(self) -> dict[RequestClass, ClassFeedback]:
        now = self.clock()
        return {
            klass: ClassFeedback(
                behind_s=state.pacer.behind(now),
                latency_s=state.latency_s,
                in_flight=state.in_flight,
                exhausted=state.exhausted,
            )
            for klass, state in self._classes.items()
        }

    def ship(self, *, final: bool = False) -> Shipment:
        """Everything measured since the last shipment. The final one also ends this share of
        the run: users claim nothing more, and nothing more is shipped."""
        if final:
            self.stopped = self.shipped_final = True
        return Shipment(
            metrics=self.metrics.drain(),
            moments=self.moments.drain(),
            feedback=self.feedback(),
            final=final,
        )


_contexts: weakref.WeakKeyDictionary[object, LoadContext] = weakref.WeakKeyDictionary()


def attach(environment: object, context: LoadContext) -> None:
    _contexts[environment] = context


def detach(environment: object) -> LoadContext | None:
    return _contexts.pop(environment, None)


def context_of(environment: object) -> LoadContext | None:
    """The running share of the run in `environment`'s process; None between runs."""
    return _contexts.get(environment)
