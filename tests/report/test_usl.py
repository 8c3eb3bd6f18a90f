from __future__ import annotations

import math

import numpy as np
import pytest

from loadtests.report.usl import UslFit, fit_usl

WORKERS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64]


def usl(lambda_: float, sigma: float, kappa: float) -> UslFit:
    return UslFit(lambda_, sigma, kappa, r_squared=1.0, workers_measured=(1, 64))


def measured(model: UslFit, noise: float = 0.0, seed: int = 0) -> list[float]:
    jitter = np.random.default_rng(seed).standard_normal(len(WORKERS))
    return [model.throughput(n) * (1 + noise * z) for n, z in zip(WORKERS, jitter, strict=True)]


def brute_force_workers(model: UslFit, target: float, limit: int = 5_000) -> int | None:
    return next((n for n in range(1, limit) if model.throughput(n) >= target), None)


def test_recovers_exact_parameters() -> None:
    fit = fit_usl(WORKERS, measured(usl(500, 0.05, 0.0005)))

    assert fit.lambda_ == pytest.approx(500, rel=1e-9)
    assert fit.sigma == pytest.approx(0.05, rel=1e-9)
    assert fit.kappa == pytest.approx(0.0005, rel=1e-9)
    assert fit.r_squared == pytest.approx(1)
    assert fit.workers_measured == tuple(WORKERS)


@pytest.mark.parametrize("seed", range(5))
def test_recovers_parameters_from_noisy_runs(seed: int) -> None:
    fit = fit_usl(WORKERS, measured(usl(500, 0.05, 0.0005), noise=0.02, seed=seed))

    assert fit.lambda_ == pytest.approx(500, rel=0.05)
    assert fit.sigma == pytest.approx(0.05, abs=0.015)
    assert fit.kappa == pytest.approx(0.0005, rel=0.3)
    assert fit.peak_workers == pytest.approx(math.sqrt(0.95 / 0.0005), rel=0.15)
    assert fit.r_squared > 0.99


def test_negative_crosstalk_is_pinned_at_zero() -> None:
    # N/X = N^0.1 / 100 bends downward, which an unconstrained fit reads as κ < 0.
    fit = fit_usl(WORKERS, [100 * n**0.9 for n in WORKERS])

    assert fit.kappa == 0
    assert fit.sigma > 0
    assert fit.peak_workers is None


def test_superlinear_runs_fit_as_linear_scaling() -> None:
    # Faster than linear has no USL reading: both σ and κ would be negative.
    fit = fit_usl(WORKERS, [100 * n**1.1 for n in WORKERS])

    assert (fit.sigma, fit.kappa) == (0, 0)
    assert fit.peak_throughput == math.inf


def test_equal_throughput_everywhere_is_full_contention() -> None:
    fit = fit_usl([1, 2, 4, 8], [300.0] * 4)

    assert fit.sigma == pytest.approx(1)
    assert fit.kappa == pytest.approx(0, abs=1e-12)
    assert fit.r_squared == 1.0
    assert fit.workers_for(301) is None


def test_peak_is_at_root_of_one_minus_sigma_over_kappa() -> None:
    model = usl(1000, 0.04, 0.0024)  # N* = √(0.96 / 0.0024) = 20

    assert model.peak_workers == pytest.approx(20)
    assert model.peak_throughput == pytest.approx(model.throughput(20))
    assert model.throughput(19) < model.peak_throughput > model.throughput(21)


def test_without_crosstalk_throughput_only_approaches_lambda_over_sigma() -> None:
    model = usl(500, 0.1, 0)

    assert model.peak_workers is None
    assert model.peak_throughput == pytest.approx(5000)
    assert model.workers_for(4000) == 36  # 500N ≥ 4000(0.9 + 0.1N) ⇔ N ≥ 36
    assert model.workers_for(5000) is None


def test_linear_scaling_needs_target_over_lambda_workers() -> None:
    model = usl(250, 0, 0)

    assert model.workers_for(1000) == 4
    assert model.workers_for(1001) == 5


def test_one_worker_suffices_up_to_lambda() -> None:
    model = usl(500, 0.05, 0.0005)

    assert model.workers_for(500) == 1
    assert model.workers_for(0) == 1


def test_a_target_beyond_the_peak_is_unreachable() -> None:
    model = usl(1000, 0.04, 0.0024)

    assert model.workers_for(model.peak_throughput * 1.001) is None


def test_a_target_between_integer_counts_rounds_up() -> None:
    model = usl(1000, 0.04, 0.0024)

    assert model.workers_for(model.throughput(7)) == 7
    assert model.workers_for(model.throughput(7) + 0.01) == 8


@pytest.mark.parametrize(
    "model", [usl(1000, 0.04, 0.0024), usl(500, 0.1, 0), usl(80, 0.0, 1e-5), usl(10, 0.9, 0.1)]
)
def test_workers_for_matches_a_brute_force_search(model: UslFit) -> None:
    top = model.peak_throughput if math.isfinite(model.peak_throughput) else 10 * model.lambda_
    for target in np.linspace(0.5 * model.lambda_, 1.01 * top, 300):
        assert model.workers_for(float(target)) == brute_force_workers(model, float(target))


@pytest.mark.parametrize(
    ("workers", "throughput"),
    [
        ([1, 2, 4], [100.0, 190.0]),  # lengths differ
        ([1, 2, 2, 1], [100.0, 190.0, 185.0, 99.0]),  # two distinct counts
        ([0, 1, 2], [1.0, 100.0, 190.0]),
        ([1, 2, 4], [100.0, 0.0, 350.0]),
        ([1, 2, 4], [100.0, math.nan, 350.0]),
    ],
)
def test_rejects_runs_that_cannot_determine_three_parameters(
    workers: list[int], throughput: list[float]
) -> None:
    with pytest.raises(ValueError):
        fit_usl(workers, throughput)


def test_too_few_worker_counts_are_named_in_the_error() -> None:
    with pytest.raises(ValueError, match=r"three or more worker counts; these ran at 1, 2$"):
        fit_usl([1, 2, 2, 1], [100.0, 190.0, 185.0, 99.0])
