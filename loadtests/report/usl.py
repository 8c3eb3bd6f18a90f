"""The Universal Scalability Law, fitted to throughput measured at several worker counts.

    X(N) = λN / (1 + σ(N−1) + κN(N−1))

λ is one worker's throughput, σ the share of the work that serialises (contention) and κ the
cost of keeping workers coherent (crosstalk). With κ > 0 throughput peaks at N* = √((1−σ)/κ)
and falls beyond it, which is what lets the report say a rate is unreachable by scaling out.

N/X = 1/λ + (σ/λ)(N−1) + (κ/λ)N(N−1) is linear in its coefficients, so ordinary least squares on
(1, N−1, N(N−1)) fits it with numpy alone. A negative σ or κ has no physical meaning; the fit
tries every way of pinning them at zero and keeps the best fit that is non-negative, which is
the exact non-negative least-squares answer for two constrained coefficients.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import numpy.typing as npt

_SIGMA, _KAPPA = 1, 2
"""Columns of the design matrix; column 0 is the intercept 1/λ."""


@dataclass(frozen=True, slots=True)
class UslFit:
    lambda_: float
    """Throughput of a single worker."""
    sigma: float
    """Contention: the share of work that runs one worker at a time."""
    kappa: float
    """Crosstalk: the pairwise cost of keeping workers consistent."""
    r_squared: float
    """Goodness of fit on the measured throughputs (not on the linearised N/X)."""
    workers_measured: tuple[int, ...]
    """The distinct worker counts the fit saw: predictions beyond them are extrapolation."""

    def throughput(self, workers: float) -> float:
        return _throughput(workers, self.lambda_, self.sigma, self.kappa)

    @property
    def peak_workers(self) -> float | None:
        """N*, where throughput peaks; None when it grows with every worker added (κ = 0)."""
        if self.kappa > 0:
            return max(1.0, math.sqrt(max(0.0, 1 - self.sigma) / self.kappa))
        return 1.0 if self.sigma >= 1 else None

    @property
    def peak_throughput(self) -> float:
        """The most any worker count can reach: X(N*), or the limit λ/σ (infinite when σ = 0)
        that throughput only approaches when nothing makes it fall."""
        peak = self.peak_workers
        if peak is not None:
            return self.throughput(peak)
        return self.lambda_ / self.sigma if self.sigma > 0 else math.inf

    def workers_for(self, throughput: float) -> int | None:
        """The fewest workers predicted to reach `throughput`; None when no count does."""
        if self.throughput(1) >= throughput:
            return 1
        if self.sigma >= 1:
            return None  # the denominator grows at least as fast as N: one worker is the best
        # X(N) ≥ T  ⇔  TκN² + (T(σ−κ) − λ)N + T(1−σ) ≤ 0, as the denominator is positive.
        a = throughput * self.kappa
        b = throughput * (self.sigma - self.kappa) - self.lambda_
        c = throughput * (1 - self.sigma)
        discriminant = b * b - 4 * a * c
        if b >= 0 or discriminant < 0:
            return None
        # The smaller root, in the form that does not cancel when 4ac is small next to b².
        root = 2 * c / (-b + math.sqrt(discriminant))
        first = max(1, math.ceil(root))
        # Rounding can leave the root a hair off an integer, so look at the neighbours too.
        for workers in (first - 1, first, first + 1):
            if workers >= 1 and self.throughput(workers) >= throughput:
                return workers
        return None


def fit_usl(workers: Sequence[int], throughput: Sequence[float]) -> UslFit:
    """Fit λ, σ and κ to throughput measured at `workers[i]` workers, one point per run."""
    if len(workers) != len(throughput):
        raise ValueError("workers and throughput need one value per run each")
    n = np.array(workers, dtype=float)
    x = np.array(throughput, dtype=float)
    if (n < 1).any() or not (np.isfinite(x) & (x > 0)).all():
        raise ValueError("worker counts must be at least 1 and throughputs positive")
    distinct = tuple(sorted({int(count) for count in workers}))
    if len(distinct) < 3:
        counts = ", ".join(str(count) for count in distinct)
        raise ValueError(
            f"the USL's three parameters need runs at three or more worker counts; these ran "
            f"at {counts}"
        )

    design = np.column_stack([np.ones_like(n), n - 1, n * (n - 1)])
    coefficients = _nonnegative_fit(design, n / x)
    lambda_ = 1 / coefficients[0]
    sigma, kappa = coefficients[_SIGMA] * lambda_, coefficients[_KAPPA] * lambda_
    predicted = np.array([_throughput(float(count), lambda_, sigma, kappa) for count in n])
    residual = float(((x - predicted) ** 2).sum())
    total = float(((x - x.mean()) ** 2).sum())
    # Equal throughput at every count is fitted exactly by σ = 1, so R² is 1 there.
    r_squared = 1 - residual / total if total > 0 else 1.0
    return UslFit(lambda_, sigma, kappa, r_squared, distinct)


def _throughput(n: float, lambda_: float, sigma: float, kappa: float) -> float:
    return lambda_ * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))


def _nonnegative_fit(
    design: npt.NDArray[np.float64], target: npt.NDArray[np.float64]
) -> list[float]:
    """Least squares with the σ and κ columns' coefficients held non-negative.

    The intercept alone is always feasible (a mean of positive N/X), so a fit always exists.
    """
    best: list[float] = []
    best_residual = math.inf
    for size in (2, 1, 0):
        for free in combinations((_SIGMA, _KAPPA), size):
            columns = [0, *free]
            solution = np.linalg.lstsq(design[:, columns], target, rcond=None)[0]
            coefficients = [0.0, 0.0, 0.0]
            for column, value in zip(columns, solution, strict=True):
                coefficients[column] = float(value)
            if coefficients[0] <= 0 or min(coefficients[_SIGMA], coefficients[_KAPPA]) < 0:
                continue
            residual = float(((design @ np.array(coefficients) - target) ** 2).sum())
            if residual < best_residual:
                best, best_residual = coefficients, residual
    return best
