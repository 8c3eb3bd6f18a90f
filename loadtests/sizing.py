"""How many users each request class needs over a run, and how they spread over workers.

A user is one sender: it claims the next intended send time, sleeps until it, sends, and waits
for the answer. So the users a class needs are the requests it has in flight, which Little's
law gives as rate × latency (`pacing.users_for`). They start sized for the class's peak at the
expected latency and grow whenever the workers report that sends fall behind schedule; they
never shrink, since an idle user costs one sleeping greenlet.

Users are added only when they are what is missing: when most of a class's senders are waiting
on the target. A generator short of CPU also falls behind, and more users would only make it
slower.

In a distributed run each worker paces its own share of every class (`Pacer(stride, offset)`),
so each worker needs its share of every class's users: counts are kept to multiples of the
worker count and spread evenly (`spread`), never left to chance.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from loadtests.pacing import RateSchedule, UserSizing
from loadtests.profiles import RequestClass, Timeline

BUSY_SHARE = 0.8
"""Users are added only while at least this share of a class's senders wait on the target. Sends
that fall behind while senders are free mean the generator itself is short of CPU, and more
users would only add to its load."""


class ScheduleLag(NamedTuple):
    """How far behind schedule the load fell, told apart by whose fault it was."""

    waiting_s: float
    """Behind while most senders were waiting on the target: the venue is slow to answer."""
    free_s: float
    """Behind while senders were free: the load generator itself could not keep up."""


class ClassFeedback(BaseModel):
    """How one request class is keeping up on one load generator (or, merged, on all)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    behind_s: float = Field(default=0.0, ge=0)
    """How overdue the next unclaimed send is."""
    latency_s: float = Field(default=0.0, ge=0)
    """Recent mean raw latency."""
    in_flight: int = Field(default=0, ge=0)
    """Requests claimed and not yet answered (retries included)."""
    exhausted: bool = False
    """Every intended send time has been handed out."""

    def senders_busy(self, users: int) -> bool:
        """Whether most of the class's `users` senders are waiting on the target."""
        return self.in_flight >= users * BUSY_SHARE

    @classmethod
    def merge(cls, parts: Iterable[ClassFeedback]) -> ClassFeedback:
        """All generators at once: the worst lag and latency, every request in flight, and
        exhausted only when every generator is."""
        items = list(parts)
        if not items:
            return cls()
        return cls(
            behind_s=max(part.behind_s for part in items),
            latency_s=max(part.latency_s for part in items),
            in_flight=sum(part.in_flight for part in items),
            exhausted=all(part.exhausted for part in items),
        )


def schedule_lag(
    feedback: Mapping[RequestClass, ClassFeedback], users: Mapping[RequestClass, int]
) -> ScheduleLag:
    """The worst lag of any class, split by whether its senders were waiting on the target or
    free: the split `CrowdPlanner.update` sizes by, kept for the report."""
    waiting, free = 0.0, 0.0
    for klass, report in feedback.items():
        count = users.get(klass, 0)
        if count == 0:
            continue
        if report.senders_busy(count):
            waiting = max(waiting, report.behind_s)
        else:
            free = max(free, report.behind_s)
    return ScheduleLag(waiting, free)


def round_up(count: int, multiple: int) -> int:
    return -(-count // multiple) * multiple


def spread(count: int, workers: int) -> list[int]:
    """`count` users over `workers` as evenly as counts allow, the extra ones to the first."""
    if workers < 1:
        raise ValueError(f"need at least one worker, not {workers}")
    base, extra = divmod(count, workers)
    return [base + (1 if index < extra else 0) for index in range(workers)]


def spread_classes(counts: Mapping[str, int], workers: Sequence[str]) -> dict[str, dict[str, int]]:
    """Each class's users spread evenly over `workers` (ids, in a stable order)."""
    shares = {name: spread(count, len(workers)) for name, count in counts.items()}
    return {
        worker: {name: share[index] for name, share in shares.items()}
        for index, worker in enumerate(workers)
    }


class CrowdPlanner:
    """Per-class user counts for a run: sized for the peak at first, grown when behind."""

    def __init__(self, timeline: Timeline, sizing: UserSizing, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"need at least one worker, not {workers}")
        self._sizing = sizing
        self._workers = workers
        self._schedules = {klass: RateSchedule.for_class(timeline, klass) for klass in RequestClass}
        self.counts = {
            klass: self._initial(schedule) for klass, schedule in self._schedules.items()
        }

    def _initial(self, schedule: RateSchedule) -> int:
        if schedule.peak_rate == 0:
            return 0
        return self._fit(self._sizing.initial(schedule))

    def _fit(self, count: int) -> int:
        """A multiple of the worker count, so every worker gets the same share of senders."""
        return min(
            round_up(count, self._workers),
            max(self._workers, self._sizing.max_users // self._workers * self._workers),
        )

    def update(
        self, t: float, feedback: Mapping[RequestClass, ClassFeedback]
    ) -> dict[RequestClass, int]:
        """The counts after one check at run second `t`: grown, for a class whose sends fall
        behind while most of its senders wait on the target."""
        for klass, current in self.counts.items():
            report = feedback.get(klass)
            if report is None or current == 0 or not report.senders_busy(current):
                continue
            rate = self._schedules[klass].rate_at(t)
            grown = self._sizing.grown(
                current, rate=rate, latency=report.latency_s, behind=report.behind_s
            )
            self.counts[klass] = max(current, self._fit(grown))
        return dict(self.counts)
