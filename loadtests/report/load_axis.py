"""A run's steps on the load axis: how hard each pushed, how much was served, where it bent.

Two choices shape every rate the report gives:
- The load axis counts orders and position queries: the classes a surge is defined by
  (`Baseline`, `Surge`). Market-data reads run alongside at the same multiples, and are judged
  by the SLOs on every request, but are left out of req/s, so a step's multiple and the surge's
  are in one unit.
- The knee is found on *served* requests: successes plus rejections. A rejected order (margin,
  precision) is the exchange deciding, which is work done; counting only successes would make a
  steady share of rejections look like falling behind.

Each step also records how busy the load machine was (its host's CPU, and its busiest Locust
runner's, and how far the load fell behind its schedule), so the verdicts can tell where the
measurements include the load machine's own lag.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import NamedTuple

from loadtests.hostload import (
    GENERATOR_LAG_TOLERANCE_S,
    LAG_TOLERANCE_SETTING,
    StepPeaks,
    step_peaks,
)
from loadtests.metrics import Outcome
from loadtests.profiles import RequestClass
from loadtests.report.capacity import Baseline
from loadtests.report.knee import Saturation, find_saturation
from loadtests.report.schema import StepLoad, cpu_busy
from loadtests.report.units import multiple
from loadtests.results import ResultsError, RunResult, StepSummary

LOAD_CLASSES = (RequestClass.ORDERS, RequestClass.QUERIES)
"""The classes the load axis counts: those a surge multiplies."""
SERVED = (Outcome.SUCCESS, Outcome.REJECTED)
"""What a step's served rate counts: a rejection is the exchange deciding, which is work done."""


class LoadAxis(NamedTuple):
    """A run's steps on the load axis and, on a ramp, where it saturated."""

    baseline: Baseline
    classes: dict[RequestClass, tuple[StepSummary, ...]]
    steps: tuple[StepLoad, ...]
    ramp: bool
    """True when every step offers more than the one before."""
    saturation: Saturation | None
    """None unless `ramp`."""


def load_axis(run: RunResult) -> LoadAxis:
    """Read once, for the report's run and for each run a scale-out fit goes through, so every
    run's sustainable rate is measured the same way."""
    count = len(run.profile.phases)
    classes = {klass: _class_rows(run.steps, klass, count) for klass in RequestClass}
    baseline = Baseline(run.profile.baseline.orders, run.profile.baseline.queries)
    offered = [sum(offered_of(classes[k][i]) for k in LOAD_CLASSES) for i in range(count)]
    ramp = len(offered) > 1 and all(later > earlier for earlier, later in pairwise(offered))
    peaks = step_peaks(run.generator, run.profile.timeline())
    tolerance = run.settings.get(LAG_TOLERANCE_SETTING)
    lag_tolerance = (
        float(tolerance) if isinstance(tolerance, int | float) else GENERATOR_LAG_TOLERANCE_S
    )
    steps = tuple(
        _step(index, classes, offered[index], baseline, ramp, peaks[index], lag_tolerance)
        for index in range(count)
    )
    # A step the load generator held back measures the load machine, not the venue: the knee
    # and the capacity are read from the others, and from none when every step was held back.
    bound = [step.generator_bound for step in steps]
    saturation = (
        find_saturation(offered, [s.served_rate for s in steps], generator_bound=bound)
        if ramp and not all(bound)
        else None
    )
    return LoadAxis(baseline, classes, steps, ramp, saturation)


def step_row(rows: Sequence[StepSummary], series: str, index: int) -> StepSummary | None:
    """Step `index`'s row of `series` covering every symbol."""
    return next(
        (row for row in rows if (row.series, row.index, row.symbol) == (series, index, None)),
        None,
    )


def _class_rows(
    rows: Sequence[StepSummary], klass: RequestClass, count: int
) -> tuple[StepSummary, ...]:
    found = []
    for index in range(count):
        row = step_row(rows, klass.value, index)
        if row is None:
            raise ResultsError(f"steps.jsonl has no {klass.value} row for step {index}")
        found.append(row)
    return tuple(found)


def offered_of(row: StepSummary) -> float:
    """The rate a row's class was offered; 0 where the profile asked for none."""
    return row.offered_rate or 0.0


def _step(
    index: int,
    classes: dict[RequestClass, tuple[StepSummary, ...]],
    offered: float,
    baseline: Baseline,
    ramp: bool,
    peaks: StepPeaks,
    lag_tolerance: float,
) -> StepLoad:
    rows = [classes[klass][index] for klass in LOAD_CLASSES]
    first = rows[0]
    served = sum(row.outcomes[outcome] for row in rows for outcome in SERVED)
    load = offered / baseline.total
    return StepLoad(
        index=index,
        name=first.step,
        label=multiple(load) if ramp else first.step,
        multiple=load,
        multipliers=first.multipliers_end,
        offered_rate=offered,
        served_rate=served / (first.end - first.start),
        generator_cpu=peaks.runner_cpu,
        host_cpu=peaks.host_cpu,
        behind_free_s=peaks.behind_free_s,
        behind_waiting_s=peaks.behind_waiting_s,
        generator_bound=(
            cpu_busy(peaks.host_cpu, peaks.runner_cpu)
            or (peaks.behind_free_s or 0.0) > lag_tolerance
        ),
    )
