"""The saturation knee: where achieved throughput stops following offered load.

A step ramp offers more load at every step. Below saturation the system serves what it is
offered; past it, achieved throughput bends toward a plateau (or falls, when contention wins)
while queues and latency grow. The knee is that bend, found with Kneedle (the `kneed` library)
on the achieved-vs-offered curve.

Kneedle alone sees a bend in any noisy line, so a candidate only counts when the system really
falls behind after it: the later steps together serve less than the tolerance of the load they
were offered. Among the candidates that pass, the sharpest bend (largest distance from the chord
in Kneedle's normalised space) is the knee.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise

import numpy as np

DEFAULT_TOLERANCE = 0.95
"""Achieved/offered below this is falling behind: 5% of the offered load is not being served."""

MIN_STEPS = 4
"""With fewer steps one noisy step would decide the knee on its own."""


class KneeStatus(StrEnum):
    FOUND = "found"
    NOT_FOUND = "not_found"
    """No bend the system fell behind after: it kept up, or was saturated from the first step."""
    TOO_FEW_STEPS = "too_few_steps"


@dataclass(frozen=True, slots=True)
class StepRate:
    """One step of a ramp: its index in the run and the request rates offered and achieved."""

    step: int
    offered: float
    achieved: float

    @property
    def efficiency(self) -> float:
        """The share of the offered load that was served."""
        return self.achieved / self.offered if self.offered > 0 else math.nan


@dataclass(frozen=True, slots=True)
class Saturation:
    """What a step ramp says about saturation; rates are in the caller's unit (requests/s)."""

    status: KneeStatus
    knee: StepRate | None
    plateau: StepRate
    """The step with the highest achieved rate: each step's rate is a mean over its whole hold,
    so this is a rate the system sustained, not a momentary peak."""
    falls_behind: StepRate | None
    """The first step whose achieved/offered ratio is below the tolerance."""
    tolerance: float
    left_out: tuple[int, ...] = ()
    """Steps not judged because the load generator, not the system, was the limit there: what
    they achieved measures the load machine."""

    @property
    def sustainable(self) -> StepRate:
        """The knee when there is one, else the plateau: past the knee queues grow, so the knee
        is what the system holds, and without one the best step is all that is known."""
        return self.knee if self.knee is not None else self.plateau


def find_saturation(
    offered: Sequence[float],
    achieved: Sequence[float],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    generator_bound: Sequence[bool] = (),
) -> Saturation:
    """Knee, plateau and first shortfall of one step ramp.

    `offered[i]` and `achieved[i]` are step i's mean rates. A step with a non-finite rate (not
    measured), or marked in `generator_bound` (the load generator was the limit there), is left
    out, keeping the other steps' indices. Offered rates must rise from step to step; a ramp
    that comes back down would fold the curve onto itself.
    """
    if len(offered) != len(achieved):
        raise ValueError("offered and achieved need one rate per step each")
    if generator_bound and len(generator_bound) != len(offered):
        raise ValueError("generator_bound needs one flag per step")
    if not 0 < tolerance <= 1:
        raise ValueError("tolerance is a share of the offered load, in (0, 1]")
    left_out = tuple(step for step, bound in enumerate(generator_bound) if bound)
    points = [
        StepRate(step, float(rate_in), float(rate_out))
        for step, (rate_in, rate_out) in enumerate(zip(offered, achieved, strict=True))
        if math.isfinite(rate_in) and math.isfinite(rate_out) and step not in left_out
    ]
    if not points:
        raise ValueError("no step has both an offered and an achieved rate the system set")
    if points[0].offered < 0 or any(
        later.offered <= earlier.offered for earlier, later in pairwise(points)
    ):
        raise ValueError("offered rates must be non-negative and rise from step to step")

    plateau = max(points, key=lambda point: point.achieved)
    falls_behind = next((p for p in points if p.achieved < tolerance * p.offered), None)
    if len(points) < MIN_STEPS:
        return Saturation(
            KneeStatus.TOO_FEW_STEPS, None, plateau, falls_behind, tolerance, left_out
        )
    knee = _knee(points, tolerance)
    status = KneeStatus.FOUND if knee is not None else KneeStatus.NOT_FOUND
    return Saturation(status, knee, plateau, falls_behind, tolerance, left_out)


def _knee(points: Sequence[StepRate], tolerance: float) -> StepRate | None:
    x = np.array([point.offered for point in points])
    y = np.array([point.achieved for point in points])
    if y.max() == y.min():
        return None  # a flat curve has no bend, and Kneedle's normalisation would divide by 0
    # Imported here, not at the top: kneed pulls in scipy, seconds of start-up that every Locust
    # process would pay for a report only the end of a run writes.
    from kneed import KneeLocator  # noqa: PLC0415

    # online=True collects every candidate instead of stopping at the first, which with noisy
    # data is often a ripple before the real bend.
    locator = KneeLocator(x, y, curve="concave", direction="increasing", online=True)
    found = {float(knee) for knee in locator.all_knees}
    # The end points cannot be knees: there is nothing after the last one to fall behind.
    candidates = [
        index
        for index in range(1, len(points) - 1)
        if float(x[index]) in found and _falls_behind_after(points, index, tolerance)
    ]
    if not candidates:
        return None
    sharpest = max(candidates, key=lambda index: float(locator.y_difference[index]))
    return points[sharpest]


def _falls_behind_after(points: Sequence[StepRate], index: int, tolerance: float) -> bool:
    later = points[index + 1 :]
    served = sum(point.achieved for point in later) / sum(point.offered for point in later)
    return served < tolerance
