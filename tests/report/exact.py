"""Per-step values as the SLO evaluation takes them, known exactly: zero-width intervals over
many samples, for tests of where an objective begins rather than of the intervals."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from loadtests.report.intervals import Estimate

SAMPLES = 1_000_000


def exact(
    metrics: Mapping[str, Sequence[float | None]],
) -> dict[str, tuple[Estimate | None, ...]]:
    """Each value as an estimate with no doubt; None and NaN as not measured."""
    return {
        metric: tuple(
            None
            if value is None or math.isnan(value)
            else Estimate(value=value, low=value, high=value, samples=SAMPLES)
            for value in values
        )
        for metric, values in metrics.items()
    }
