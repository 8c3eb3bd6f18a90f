"""Service-level objectives as data, and the step of a run at which each one first breaks.

The thresholds live in YAML (the shipped defaults in `loadtests/slo.yaml`; a user's file only
names what it changes). Each objective watches one per-step metric, keyed by the same name as
its threshold; `OBJECTIVES` says which way each one breaks. "Timeouts begin at 12x" in the
report is the first step whose timeout rate crosses its threshold.

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


OBJECTIVES: tuple[Objective, ...] = (
    Objective("order_latency_p99_ms", "order latency p99 (corrected)", "ms", Bound.CEILING),
    Objective("query_latency_p99_ms", "query latency p99 (corrected)", "ms", Bound.CEILING),
    Objective("timeout_rate", "timeouts (408 / -1007, -1021, no answer)", "share", Bound.CEILING),
    Objective("stale_read_rate", "stale position reads", "share", Bound.CEILING),
    Objective("stale_age_p99_ms", "stale read age p99", "ms", Bound.CEILING),
    Objective("rate_limited_rate", "rate limiting (429 + 418)", "share", Bound.CEILING),
    Objective("feed_lag_p99_ms", "liquidation feed lag p99", "ms", Bound.CEILING),
    Objective("feed_completeness", "liquidation feed completeness", "share", Bound.FLOOR),
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
        ge=0, le=1, description="Share of position reads missing a fill acknowledged before them."
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


@dataclass(frozen=True, slots=True)
class Breach:
    """Where an objective first broke: the step and the value measured there."""

    objective: Objective
    step: Step
    value: float


@dataclass(frozen=True, slots=True)
class SloResult:
    objective: Objective
    threshold: float
    breach: Breach | None
    """The first step whose value crossed the threshold; None when no step did."""
    worst: float | None
    """The worst value measured at any step; None when the metric was never measured."""

    @property
    def broken(self) -> bool:
        return self.breach is not None

    @property
    def measured(self) -> bool:
        return self.worst is not None


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
    metrics: Mapping[str, Sequence[float | None]],
    multiples: Sequence[float],
    offered_rates: Sequence[float],
) -> SloEvaluation:
    """Judge every objective against a run's per-step metrics.

    `metrics` maps an objective's metric name to one value per step (other keys are ignored, a
    missing key means the run did not measure it); `multiples` and `offered_rates` give each
    step's load as a multiple of baseline and in requests per second.
    """
    if len(multiples) != len(offered_rates):
        raise ValueError("multiples and offered_rates need one value per step each")
    steps = tuple(
        Step(index, multiple, rate)
        for index, (multiple, rate) in enumerate(zip(multiples, offered_rates, strict=True))
    )
    results = []
    for objective in OBJECTIVES:
        values = metrics.get(objective.metric, ())
        if values and len(values) != len(steps):
            raise ValueError(f"{objective.metric}: {len(values)} values for {len(steps)} steps")
        results.append(_judge(objective, thresholds.threshold(objective), values, steps))
    return SloEvaluation(steps, tuple(results))


def _judge(
    objective: Objective, threshold: float, values: Sequence[float | None], steps: Sequence[Step]
) -> SloResult:
    measured = [value for value in values if _measured(value)]
    worst_of = max if objective.bound is Bound.CEILING else min
    worst = worst_of(measured) if measured else None
    crossing = _first_crossing(values, threshold, objective.bound)
    if crossing is None:
        return SloResult(objective, threshold, None, worst)
    index, value = crossing
    return SloResult(objective, threshold, Breach(objective, steps[index], value), worst)


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
