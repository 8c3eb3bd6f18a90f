"""Outcomes moment by moment: each request counted in the tenth of a second of the run its
intended send time fell in, per request class, by outcome and by how slow it was.

The steps' tallies say how a step went; these say when things changed within one: when an
outage began to fail requests, when the first request sent after it began succeeded, and when
latency held again. Counts only, no histograms: a histogram per tenth of a second would cost
more memory than the run's whole measurement; instead each request is counted against a ladder
of latency rungs (`SLOW_MS`), which is enough to judge a latency ceiling on the ladder.

Each moment also keeps its earliest successful answer (run seconds), so a recovery is timed to
the request that showed it, not to the tenth it fell in. Moments merge across load generators
like tallies: counts add, earliest answers take the minimum.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from loadtests.metrics import Outcome

MOMENT_S = 0.1
"""The width of one moment, in run seconds."""
SLOW_MS = (50, 100, 250, 500, 1_000, 2_000, 2_500, 5_000, 10_000, 30_000)
"""Latency rungs (corrected, ms): each request counts as slow at every rung it exceeded."""


def slow_name(rung_ms: int) -> str:
    """The count of a moment's requests slower than `rung_ms`."""
    return f"slow>{rung_ms}ms"


class Moment(BaseModel):
    """One tenth of a second of one request class, as recorded (see the module's docstring)."""

    model_config = ConfigDict(extra="forbid")

    tenth: int
    """Which tenth of a second of the run: intended send times in [tenth, tenth + 1) / 10."""
    series: str
    counts: dict[str, int] = {}
    """Requests by outcome, and by `slow_name` rung."""
    first_success_s: float | None = None
    """Run seconds at which the earliest successful request of the moment was answered."""

    @property
    def at(self) -> float:
        return self.tenth * MOMENT_S

    @property
    def requests(self) -> int:
        return sum(self.counts.get(outcome, 0) for outcome in Outcome)

    def merge(self, other: Moment) -> None:
        for name, n in other.counts.items():
            self.counts[name] = self.counts.get(name, 0) + n
        if other.first_success_s is not None:
            mine = self.first_success_s
            self.first_success_s = (
                other.first_success_s if mine is None else min(mine, other.first_success_s)
            )


class Moments:
    """A run's moments (or one generator's share of them), recorded and merged."""

    def __init__(self) -> None:
        self._moments: dict[tuple[int, str], Moment] = {}

    def record(self, series: str, outcome: Outcome, *, intended_s: float, done_s: float) -> None:
        """One request of `series`: intended and answered at these run seconds."""
        tenth = math.floor(intended_s / MOMENT_S)
        moment = self._moments.get((tenth, series))
        if moment is None:
            moment = self._moments[(tenth, series)] = Moment(tenth=tenth, series=series)
        counts = moment.counts
        counts[outcome] = counts.get(outcome, 0) + 1
        latency_ms = (done_s - intended_s) * 1000
        for rung in SLOW_MS:
            if latency_ms <= rung:
                break
            name = slow_name(rung)
            counts[name] = counts.get(name, 0) + 1
        if outcome is Outcome.SUCCESS and (
            moment.first_success_s is None or done_s < moment.first_success_s
        ):
            moment.first_success_s = done_s

    def merge(self, moments: Iterable[Moment]) -> None:
        for moment in moments:
            mine = self._moments.get((moment.tenth, moment.series))
            if mine is None:
                self._moments[(moment.tenth, moment.series)] = moment.model_copy(deep=True)
            else:
                mine.merge(moment)

    def drain(self) -> list[Moment]:
        """Every moment recorded so far, oldest first, and start afresh."""
        drained = self.ordered()
        self._moments = {}
        return drained

    def ordered(self) -> list[Moment]:
        return [self._moments[key] for key in sorted(self._moments)]
