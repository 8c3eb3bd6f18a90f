"""Service-level objectives as data, and the step of a run at which each one first breaks.

The thresholds live in YAML (the shipped defaults in `loadtests/slo.yaml`; a user's file only
names what it changes). Each objective watches one per-step metric, keyed by the same name as
its threshold; `OBJECTIVES` says which way each one breaks.

Each step's value comes with its 95% interval (`intervals.py`), and the step is judged by where
the interval lies: it *breaks* when the whole interval is beyond the threshold, is *borderline*
when it straddles it, *holds* when it is wholly within, and has *too few samples* when it is
within as far as measured but the samples could not show it. "Timeouts begin at 12x" in the
report is the first step that breaks, so a run repeated names the same step unless one near it
was borderline, and says so.

A step with no measurement (None or NaN: no liquidations to complete, no stale reads to age)
neither breaks an objective nor holds it; an objective with no measurement at any step is
reported as unmeasured rather than as held.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import TypeGuard

import yaml
from pydantic import BaseModel, ConfigDict, Field

from loadtests.report.intervals import Estimate, wilson


class Bound(StrEnum):
    CEILING = "ceiling"
    """Broken by a value above the threshold (latency, error shares)."""
    FLOOR = "floor"
    """Broken by a value below the threshold (completeness)."""


@dataclass(frozen=True, slots=True)
class Objective:
    metric: str
    """The key of both the threshold and the per-step series it judges."""
    label: str
    unit: str
    bound: Bound
    generator_sensitive: bool = False
    """Whether a load generator that falls behind inflates it (latency, timeouts): where the
    generator was the limit, such an objective is not judged against the venue."""


OBJECTIVES: tuple[Objective, ...] = (
    Objective("order_latency_p99_ms", "order latency p99 (corrected)", "ms", Bound.CEILING, True),
    Objective("query_latency_p99_ms", "query latency p99 (corrected)", "ms", Bound.CEILING, True),
    Objective(
        "timeout_rate", "timeouts (408 / -1007, -1021, no answer)", "share", Bound.CEILING, True
    ),
    Objective("stale_read_rate", "stale position reads", "share", Bound.CEILING),
    Objective("stale_age_p99_ms", "stale read age p99", "ms", Bound.CEILING),
    Objective("rate_limited_rate", "rate limiting (429 + 418)", "share", Bound.CEILING),
    # A generator short of CPU reads its sockets late, and one that falls far enough behind is
    # dropped by the venue (a gap): where it was the limit, neither is the venue's alone. What
    # the liquidation feed leaves out is the venue's whatever the generator did.
    Objective("feed_lag_p99_ms", "liquidation feed lag p99", "ms", Bound.CEILING, True),
    Objective("feed_completeness", "liquidation feed completeness", "share", Bound.FLOOR),
    Objective("depth_lag_p99_ms", "depth stream lag p99", "ms", Bound.CEILING, True),
    Objective("depth_gap_rate", "depth stream gaps", "share", Bound.CEILING, True),
    Objective("error_rate", "other errors", "share", Bound.CEILING),
)


class SloThresholds(BaseModel):
    """One threshold per objective in `OBJECTIVES`; shares are fractions in [0, 1]."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    order_latency_p99_ms: float = Field(
        gt=0, description="p99 of order latency measured from each order's intended send time."
    )
    query_latency_p99_ms: float = Field(
        gt=0, description="p99 of position/account query latency from intended send time."
    )
    timeout_rate: float = Field(
        ge=0,
        le=1,
        description="Share of requests that ran out of time: 408 / -1007 (the engine's ack "
        "deadline), -1021 (the request's recvWindow), or no answer before the client gave up.",
    )
    stale_read_rate: float = Field(
        ge=0,
        le=1,
        description="Share of position reads missing a fill acknowledged more than "
        "stale_tolerance_ms before them.",
    )
    stale_tolerance_ms: float = Field(
        ge=0,
        description="How old a missing fill may be before a read counts as stale for "
        "stale_read_rate: a read that outruns the projector by microseconds is information, "
        "not an outage.",
    )
    stale_age_p99_ms: float = Field(
        gt=0, description="p99 age of stale reads: read send time − ack of oldest missing fill."
    )
    rate_limited_rate: float = Field(
        ge=0, le=1, description="Share of requests refused with 429 or 418."
    )
    feed_lag_p99_ms: float = Field(
        gt=0, description="p99 of liquidation-event receive time − event time."
    )
    feed_completeness: float = Field(
        ge=0, le=1, description="Minimum share of true liquidations the feed showed."
    )
    depth_lag_p99_ms: float = Field(
        gt=0, description="p99 of diff depth event receive time − event time."
    )
    depth_gap_rate: float = Field(
        ge=0,
        le=1,
        description="Share of diff depth events that broke a local book's update-id chain, "
        "forcing a resync from a REST snapshot.",
    )
    error_rate: float = Field(
        ge=0,
        le=1,
        description="Share of requests failed otherwise: 503s, -1008, connection errors, "
        "anything unexpected.",
    )

    @classmethod
    def load(cls, path: Path | None = None) -> SloThresholds:
        """The shipped thresholds, with those in `path` laid over them."""
        shipped = resources.files("loadtests").joinpath("slo.yaml").read_text()
        thresholds = yaml.safe_load(shipped)
        if path is not None:
            overrides = yaml.safe_load(path.read_text()) or {}
            if not isinstance(overrides, dict):
                raise ValueError(f"{path}: expected a mapping of SLO name to threshold")
            thresholds |= overrides
        return cls.model_validate(thresholds)

    def threshold(self, objective: Objective) -> float:
        value: float = getattr(self, objective.metric)
        return value


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a run, as the report names it: its index, multiple of baseline and rate."""

    index: int
    multiple: float
    offered_rate: float


class Judgement(StrEnum):
    """One step's verdict on one objective, from its value's 95% interval."""

    BREAKS = "breaks"
    """The whole interval lies beyond the threshold."""
    BORDERLINE = "borderline"
    """The interval straddles the threshold."""
    HOLDS = "holds"
    """The whole interval lies within the threshold."""
    TOO_FEW = "too few samples"
    """Within the threshold as far as measured, but too few samples to show it: a p99 whose
    interval has no upper end, or a share whose interval would straddle the threshold even
    had none of its samples failed."""
    INCONCLUSIVE = "inconclusive"
    """It would break or be borderline, but the load generator was the limit there, so the
    measurement is its own as much as the venue's."""
    UNMEASURED = "not measured"


@dataclass(frozen=True, slots=True)
class Breach:
    """Where an objective first broke: the step and the value measured there."""

    objective: Objective
    step: Step
    value: Estimate


@dataclass(frozen=True, slots=True)
class SloResult:
    objective: Objective
    threshold: float
    judgements: tuple[Judgement, ...]
    """One per step."""
    estimates: tuple[Estimate | None, ...]
    """One per step; None where the step did not measure it."""
    breach: Breach | None
    """The first step that broke; None when no step did."""
    worst: float | None
    """The worst value measured at any step; None when the metric was never measured."""

    @property
    def broken(self) -> bool:
        return self.breach is not None

    @property
    def measured(self) -> bool:
        return self.worst is not None

    def first(self, judgement: Judgement) -> int | None:
        """The first step judged `judgement`, before the breach if there is one."""
        end = len(self.judgements) if self.breach is None else self.breach.step.index
        return next((i for i in range(end) if self.judgements[i] is judgement), None)


@dataclass(frozen=True, slots=True)
class SloEvaluation:
    steps: tuple[Step, ...]
    results: tuple[SloResult, ...]

    @property
    def first_breach(self) -> Breach | None:
        """The earliest breach of any objective (the first in `OBJECTIVES` on a tie)."""
        breaches = [result.breach for result in self.results if result.breach is not None]
        return min(breaches, key=lambda breach: breach.step.index, default=None)

    @property
    def last_held(self) -> Step | None:
        """The last step before any objective broke: the last step when none did, and None
        when one broke at the very first step."""
        first = self.first_breach
        if first is None:
            return self.steps[-1] if self.steps else None
        return self.steps[first.step.index - 1] if first.step.index > 0 else None


def begins_at(values: Sequence[float | None], threshold: float, bound: Bound) -> int | None:
    """Index of the first step whose value crosses `threshold`; unmeasured steps are skipped."""
    crossing = _first_crossing(values, threshold, bound)
    return crossing[0] if crossing is not None else None


def evaluate(
    thresholds: SloThresholds,
    estimates: Mapping[str, Sequence[Estimate | None]],
    multiples: Sequence[float],
    offered_rates: Sequence[float],
    generator_bound: Sequence[bool] = (),
) -> SloEvaluation:
    """Judge every objective against a run's per-step values and their intervals.

    `estimates` maps an objective's metric name to one value per step (other keys are ignored,
    a missing key means the run did not measure it); `multiples` and `offered_rates` give each
    step's load as a multiple of baseline and in requests per second; `generator_bound` marks
    the steps where the load generator was the limit, whose latency and timeout verdicts are
    inconclusive rather than broken.
    """
    if len(multiples) != len(offered_rates):
        raise ValueError("multiples and offered_rates need one value per step each")
    steps = tuple(
        Step(index, multiple, rate)
        for index, (multiple, rate) in enumerate(zip(multiples, offered_rates, strict=True))
    )
    bound_steps = tuple(generator_bound) or (False,) * len(steps)
    results = []
    for objective in OBJECTIVES:
        values = tuple(estimates.get(objective.metric, ())) or (None,) * len(steps)
        if len(values) != len(steps):
            raise ValueError(f"{objective.metric}: {len(values)} values for {len(steps)} steps")
        threshold = thresholds.threshold(objective)
        judgements = tuple(
            _inconclusive(judge(value, threshold, objective), objective, limited)
            for value, limited in zip(values, bound_steps, strict=True)
        )
        index = next((i for i, j in enumerate(judgements) if j is Judgement.BREAKS), None)
        breach = None
        if index is not None:
            value = values[index]
            assert value is not None  # a step that breaks measured it
            breach = Breach(objective, steps[index], value)
        measured = [value.value for value in values if value is not None]
        worst_of = max if objective.bound is Bound.CEILING else min
        worst = worst_of(measured) if measured else None
        results.append(SloResult(objective, threshold, judgements, values, breach, worst))
    return SloEvaluation(steps, tuple(results))


def judge(estimate: Estimate | None, threshold: float, objective: Objective) -> Judgement:
    """Where a step's interval lies against `threshold`."""
    if estimate is None:
        return Judgement.UNMEASURED
    ceiling = objective.bound is Bound.CEILING
    beyond, within = (estimate.low, estimate.high) if ceiling else (estimate.high, estimate.low)
    if beyond is not None and _crosses(beyond, threshold, objective.bound):
        return Judgement.BREAKS
    if within is None:
        return Judgement.TOO_FEW
    if not _crosses(within, threshold, objective.bound):
        return Judgement.HOLDS
    if objective.unit == "share" and not _crosses(estimate.value, threshold, objective.bound):
        # Would the best possible sample of this size (none failed) show it holds?
        n = estimate.samples
        best = wilson(0, n).high if ceiling else wilson(n, n).low
        assert best is not None  # a share's interval is always bounded
        if _crosses(best, threshold, objective.bound):
            return Judgement.TOO_FEW
    return Judgement.BORDERLINE


def _inconclusive(judgement: Judgement, objective: Objective, generator_bound: bool) -> Judgement:
    if generator_bound and objective.generator_sensitive and judgement in _UNSURE_OR_BROKEN:
        return Judgement.INCONCLUSIVE
    return judgement


_UNSURE_OR_BROKEN = frozenset({Judgement.BREAKS, Judgement.BORDERLINE, Judgement.TOO_FEW})


def _first_crossing(
    values: Sequence[float | None], threshold: float, bound: Bound
) -> tuple[int, float] | None:
    for index, value in enumerate(values):
        if _measured(value) and _crosses(value, threshold, bound):
            return index, value
    return None


def _measured(value: float | None) -> TypeGuard[float]:
    return value is not None and not math.isnan(value)


def _crosses(value: float, threshold: float, bound: Bound) -> bool:
    if bound is Bound.CEILING:
        return value > threshold
    return value < threshold
