"""Open-model pacing: when each request should be sent, whatever the exchange is doing.

A surge does not wait for the exchange to answer. For each request class the profile gives a
rate r(t), piecewise constant or linear, and the n-th request's intended send time is where the
cumulative count N(t) = ∫ r reaches n. Solving that for each n in closed form (a quadratic on a
ramp) instead of adding up intervals keeps long runs free of drift. Latency is then measured
from the intended time as well as from the actual send: the coordinated-omission correction
wrk2 makes for constant rates, here for ramping schedules.

Everything here is clock-free (callers pass times in) and uses no threads or asyncio, so a Locust
user can call it from its greenlet.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from loadtests.profiles import RequestClass, Timeline

LATE_AFTER_S = 0.010
"""A send more than this past its intended time is late. Less is the scheduler's wake-up jitter;
either way the corrected latency includes it."""

DEFAULT_HEADROOM = 2.0


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of run time over which the rate moves linearly (or stays constant)."""

    start: float
    end: float
    rate_start: float
    rate_end: float

    def __post_init__(self) -> None:
        if not self.end > self.start:
            raise ValueError(f"segment must end after it starts: {self.start}..{self.end}")
        if not (self.rate_start >= 0 and self.rate_end >= 0):
            raise ValueError(f"rates must be non-negative: {self.rate_start}, {self.rate_end}")

    @property
    def slope(self) -> float:
        return (self.rate_end - self.rate_start) / (self.end - self.start)

    @property
    def count(self) -> float:
        """Requests the segment asks for."""
        return (self.rate_start + self.rate_end) / 2 * (self.end - self.start)

    def rate_at(self, t: float) -> float:
        return self.rate_start + self.slope * (t - self.start)

    def count_until(self, t: float) -> float:
        elapsed = t - self.start
        return self.rate_start * elapsed + self.slope * elapsed * elapsed / 2

    def offset_of(self, count: float) -> float:
        """Seconds after `start` at which the segment has asked for `count` requests.

        The root of r0·x + a·x²/2 = count, written as 2·count / (r0 + √(r0² + 2·a·count)): exact
        for a = 0 too, and free of the cancellation the textbook form suffers when a is small.
        """
        if count <= 0:
            return 0.0
        root = math.sqrt(max(0.0, self.rate_start**2 + 2 * self.slope * count))
        return 2 * count / (self.rate_start + root)


class RateSchedule:
    """A piecewise-linear rate over run seconds [0, duration]: one request class's load."""

    def __init__(self, segments: Sequence[Segment]) -> None:
        if not segments:
            raise ValueError("a schedule needs at least one segment")
        if segments[0].start != 0:
            raise ValueError("a schedule starts at 0")
        for before, after in itertools.pairwise(segments):
            if after.start != before.end:
                raise ValueError(f"gap or overlap at {before.end}..{after.start}")
        self.segments = tuple(segments)
        self._starts = [segment.start for segment in self.segments]
        self._counts_before: list[float] = []
        self._counts_through: list[float] = []
        total = 0.0
        for segment in self.segments:
            self._counts_before.append(total)
            total += segment.count
            self._counts_through.append(total)

    @classmethod
    def for_class(cls, timeline: Timeline, klass: RequestClass) -> RateSchedule:
        """The rate of `klass` a profile asks for: baseline times each phase's multipliers."""
        baseline = timeline.baseline.of(klass)
        segments = []
        for window in timeline.windows:
            rate = baseline * window.phase.multipliers.of(klass)
            if window.ramp_end > window.start:
                entry = baseline * window.entry.of(klass)
                segments.append(Segment(window.start, window.ramp_end, entry, rate))
            if window.end > window.ramp_end:
                segments.append(Segment(window.ramp_end, window.end, rate, rate))
        return cls(segments)

    @classmethod
    def constant(cls, rate: float, duration: float) -> RateSchedule:
        return cls([Segment(0.0, duration, rate, rate)])

    @property
    def duration(self) -> float:
        return self.segments[-1].end

    @property
    def total(self) -> float:
        """Requests the whole schedule asks for."""
        return self._counts_through[-1]

    @property
    def peak_rate(self) -> float:
        return max(max(s.rate_start, s.rate_end) for s in self.segments)

    def rate_at(self, t: float) -> float:
        """Requests per second asked for at `t`; 0 outside the schedule."""
        if t < 0 or t >= self.duration:
            return 0.0
        return self.segments[self._index_at(t)].rate_at(t)

    def count_until(self, t: float) -> float:
        """N(t): requests asked for from the start up to `t`."""
        if t <= 0:
            return 0.0
        if t >= self.duration:
            return self.total
        index = self._index_at(t)
        return self._counts_before[index] + self.segments[index].count_until(t)

    def time_of(self, n: int) -> float | None:
        """The intended send time of request `n` (from 1): where N(t) reaches n. None when the
        schedule asks for fewer than n requests."""
        if n < 1 or n > self.total * (1 + 1e-12):
            return None
        # The first segment through which the count reaches n; a zero-rate segment can never be
        # it, because its count-through equals its predecessor's.
        index = min(bisect.bisect_left(self._counts_through, n), len(self.segments) - 1)
        segment = self.segments[index]
        offset = segment.offset_of(n - self._counts_before[index])
        return min(segment.start + offset, segment.end)

    def _index_at(self, t: float) -> int:
        return bisect.bisect_right(self._starts, t) - 1


def intended_times(schedule: RateSchedule, *, stride: int = 1, offset: int = 0) -> Iterator[float]:
    """Intended send times (run seconds) of requests offset+1, offset+1+stride, ...

    With `stride` load generators each taking a different `offset`, together they send exactly
    the schedule's requests, and a distributed run paces like a local one.
    """
    if stride < 1 or not 0 <= offset < stride:
        raise ValueError(f"need stride >= 1 and 0 <= offset < stride, not {stride}, {offset}")
    n = offset + 1
    while (t := schedule.time_of(n)) is not None:
        yield t
        n += stride


def is_late(intended: float, sent: float) -> bool:
    return sent - intended > LATE_AFTER_S


@dataclass(slots=True)
class PacerStats:
    claimed: int = 0
    sent: int = 0
    late: int = 0
    worst_lateness: float = 0.0
    """Seconds; the largest actual − intended seen."""


class Pacer:
    """Hands one request class's intended send times, in order, to whichever user asks next,
    and keeps count of how late the sends were: late sends are counted, never hidden or skipped.

    `origin` is the caller's clock reading at run second 0, so the times handed out are on the
    caller's clock.
    """

    def __init__(
        self, schedule: RateSchedule, *, origin: float, stride: int = 1, offset: int = 0
    ) -> None:
        self._origin = origin
        self._times = intended_times(schedule, stride=stride, offset=offset)
        self._next = next(self._times, None)
        self.stats = PacerStats()

    def claim(self) -> float | None:
        """The next request's intended send time, now the caller's; None when the run is over."""
        if self._next is None:
            return None
        intended = self._origin + self._next
        self._next = next(self._times, None)
        self.stats.claimed += 1
        return intended

    def behind(self, now: float) -> float:
        """How overdue the next unclaimed request is (0 if not yet due): it grows when every
        user is busy waiting for the exchange, which is the signal to add users."""
        if self._next is None:
            return 0.0
        return max(0.0, now - (self._origin + self._next))

    def sent(self, intended: float, actual: float) -> float:
        """Record that the request intended for `intended` went out at `actual`; returns the
        lateness in seconds."""
        lateness = actual - intended
        self.stats.sent += 1
        if is_late(intended, actual):
            self.stats.late += 1
        self.stats.worst_lateness = max(self.stats.worst_lateness, lateness)
        return lateness


def users_for(rate: float, latency: float, headroom: float = DEFAULT_HEADROOM) -> int:
    """Little's law: at `rate` requests/s taking `latency` s each, rate × latency are in flight
    on average; `headroom` covers the spikes around that average."""
    if rate < 0 or latency < 0 or headroom < 1:
        raise ValueError("rate and latency must be non-negative and headroom at least 1")
    return max(1, math.ceil(rate * latency * headroom))


@dataclass(frozen=True, slots=True)
class UserSizing:
    """How many users (concurrent senders) one request class needs, and when to add more."""

    expected_latency: float
    """Seconds a request is expected to take when the target keeps up."""
    headroom: float = DEFAULT_HEADROOM
    behind_after: float = 0.1
    """Seconds the next request may be overdue before users are added."""
    growth: float = 1.5
    """The least factor users grow by once behind, however stale the latency estimate."""
    max_users: int = 2_000
    """Per class. Each user holds a connection: three classes at this cap stay within the 10,000
    open files Locust raises its limit to, and past it an overloaded target shows up as late
    sends (measured) rather than as the generator running out of sockets."""

    def initial(self, schedule: RateSchedule) -> int:
        """Enough users for the schedule's peak at the expected latency: idle greenlets are
        cheap, and users added mid-surge arrive after the requests they were needed for."""
        return min(
            self.max_users, users_for(schedule.peak_rate, self.expected_latency, self.headroom)
        )

    def grown(self, current: int, *, rate: float, latency: float, behind: float) -> int:
        """The user count after one check: unchanged while sends keep up; once the next request
        is overdue by more than `behind_after`, Little's law at the latency now observed, and at
        least `growth` times the current count; never above `max_users`. Past that cap the run
        keeps going and the late sends show in the results."""
        if behind <= self.behind_after:
            return current
        needed = max(math.ceil(current * self.growth), users_for(rate, latency, self.headroom))
        return max(current, min(self.max_users, needed))
