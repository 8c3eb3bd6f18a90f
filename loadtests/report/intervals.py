"""95% intervals for the values the SLOs judge: a share of events, or a percentile.

A step of a load test is a sample: run it again and its timeout share or p99 comes out a little
different. A verdict that flips between runs of the same profile helps nobody, so every value
is judged with its interval, not alone.

- A share k/n gets the Wilson score interval: unlike the textbook p ± z·√(p(1−p)/n) it stays
  within [0, 1] and is not zero-width when k is 0 or n, which is the usual case for a step that
  holds.
- A count of events (requests that failed while an outage lasted) gets the Poisson score
  interval, Wilson's for a rate: k + z²/2 ± z·√(k + z²/4), likewise not zero-width at k = 0.
- A percentile gets an order-statistic interval, free of any assumption about the distribution:
  among n samples the count below the true q-quantile is Binomial(n, q), so the ranks l and u
  with P(l ≤ count < u) ≥ 95% bound it between the l-th and u-th smallest samples. The ranks are
  read through the recorded HDR histogram to values. When u would exceed n, the samples cannot
  bound the percentile from above: too few to judge it (a p99 needs at least 368 samples).
"""

from __future__ import annotations

import math
from typing import Final

from hdrh.histogram import HdrHistogram
from pydantic import BaseModel, ConfigDict

from loadtests.recorded import Recorded

CONFIDENCE: Final = 0.95
Z: Final = 1.959963984540054
"""The standard normal quantile for a two-sided 95% interval."""
_TAIL_SDS: Final = 12.0
"""How far from the mean (in standard deviations) binomial mass is summed: beyond it, less than
1e-30 is left, far below the tail probabilities the ranks are read at."""


class Estimate(BaseModel):
    """A measured value with its 95% interval."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float
    low: float
    high: float | None
    """None when the samples cannot bound the value from above (too few for the percentile)."""
    samples: int
    """Requests (or reads, or liquidations) the value was measured over."""


def wilson(successes: int, trials: int) -> Estimate:
    """The share `successes`/`trials` with its Wilson score interval; `trials` must be > 0."""
    if not 0 <= successes <= trials or trials == 0:
        raise ValueError(f"no share of {successes} in {trials}")
    p = successes / trials
    z2 = Z * Z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = Z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    # At k = 0 or n the bound is exactly 0 or 1; computed, it is off by a rounding error.
    return Estimate(
        value=p,
        low=0.0 if successes == 0 else max(0.0, centre - half),
        high=1.0 if successes == trials else min(1.0, centre + half),
        samples=trials,
    )


def poisson(count: int) -> Estimate:
    """A count of events, taken as Poisson, with its score interval."""
    if count < 0:
        raise ValueError(f"no count of {count}")
    half = Z * math.sqrt(count + Z * Z / 4)
    centre = count + Z * Z / 2
    low = 0.0 if count == 0 else centre - half  # (centre - half)(centre + half) = count²
    return Estimate(value=count, low=low, high=centre + half, samples=count)


def quantile_ranks(n: int, q: float) -> tuple[int, int]:
    """The 1-based ranks (l, u) among `n` sorted samples between which the `q`-quantile lies
    with at least 95% confidence. l is 0 when no sample bounds it from below, u is n + 1 when
    none bounds it from above."""
    if n < 1 or not 0 < q < 1:
        raise ValueError(f"no {q}-quantile rank interval among {n} samples")
    tail = (1 - CONFIDENCE) / 2
    mean, sd = n * q, math.sqrt(n * q * (1 - q))
    first = max(0, math.floor(mean - _TAIL_SDS * sd) - 1)
    last = min(n, math.ceil(mean + _TAIL_SDS * sd) + 1)
    lower: int | None = None
    cdf = 0.0
    for k in range(first, last + 1):
        cdf += math.exp(_log_binomial_pmf(n, q, k))
        if lower is None and cdf > tail:
            # P(count ≤ l − 1) ≤ tail: the l-th smallest sample is below the quantile.
            lower = k
        if cdf >= 1 - tail:
            # P(count ≤ u − 1) ≥ 1 − tail: the u-th smallest sample is above it.
            return lower if lower is not None else k, k + 1
    return lower if lower is not None else last, n + 1


def percentile_estimate(histogram: HdrHistogram, q: float, unit: float = 1.0) -> Estimate | None:
    """The `q`-quantile (0.99 for p99) of the values `histogram` recorded, divided by `unit`,
    with its order-statistic interval; None for an empty histogram."""
    recorded = Recorded(histogram)
    n = recorded.total
    if n == 0:
        return None
    lower, upper = quantile_ranks(n, q)
    low = recorded.value_at_rank(lower) if lower > 0 else 0
    high = recorded.value_at_rank(upper) if upper <= n else None
    return Estimate(
        value=recorded.value_at_percentile(q * 100) / unit,
        low=low / unit,
        high=None if high is None else high / unit,
        samples=n,
    )


def count_above(histogram: HdrHistogram, threshold: float) -> int:
    """How many recorded values exceed `threshold` (in the histogram's unit), to the
    histogram's precision: values in the bucket holding `threshold` count as not above it."""
    return Recorded(histogram).count_above(threshold)


def _log_binomial_pmf(n: int, p: float, k: int) -> float:
    return (
        math.lgamma(n + 1)
        - math.lgamma(k + 1)
        - math.lgamma(n - k + 1)
        + k * math.log(p)
        + (n - k) * math.log1p(-p)
    )
