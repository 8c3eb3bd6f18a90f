from __future__ import annotations

import math

import numpy as np
import pytest

from loadtests.report.knee import KneeStatus, StepRate, find_saturation

OFFERED = [float(rate) for rate in range(100, 2001, 100)]  # 20 steps, 100 req/s apart


def capped(ceiling: float, noise: float = 0.0, seed: int = 0) -> list[float]:
    """A system that serves everything up to `ceiling` req/s, with multiplicative noise."""
    jitter = np.random.default_rng(seed).standard_normal(len(OFFERED))
    return [min(rate, ceiling) * (1 + noise * z) for rate, z in zip(OFFERED, jitter, strict=True)]


def test_knee_of_a_hard_ceiling_is_where_offered_meets_it() -> None:
    saturation = find_saturation(OFFERED, capped(1000))

    assert saturation.status is KneeStatus.FOUND
    assert saturation.knee == StepRate(step=9, offered=1000, achieved=1000)


@pytest.mark.parametrize("seed", range(5))
def test_knee_of_a_noisy_ceiling_lands_within_a_step_of_it(seed: int) -> None:
    saturation = find_saturation(OFFERED, capped(1000, noise=0.02, seed=seed))

    assert saturation.knee is not None
    assert 900 <= saturation.knee.offered <= 1100


def test_knee_of_a_logistic_lies_on_its_upper_bend() -> None:
    centre, scale = 800.0, 150.0
    achieved = [1200 / (1 + math.exp(-(rate - centre) / scale)) for rate in OFFERED]

    saturation = find_saturation(OFFERED, achieved)

    assert saturation.knee is not None
    assert centre < saturation.knee.offered <= centre + 3 * scale


def test_a_straight_line_has_no_knee_and_kept_up() -> None:
    saturation = find_saturation(OFFERED, OFFERED)

    assert saturation.status is KneeStatus.NOT_FOUND
    assert saturation.knee is None
    assert saturation.falls_behind is None
    assert saturation.sustainable == saturation.plateau == StepRate(19, 2000, 2000)


@pytest.mark.parametrize("seed", range(10))
def test_a_noisy_straight_line_has_no_knee(seed: int) -> None:
    jitter = np.random.default_rng(seed).standard_normal(len(OFFERED))
    achieved = [rate * (1 + 0.02 * z) for rate, z in zip(OFFERED, jitter, strict=True)]

    assert find_saturation(OFFERED, achieved).knee is None


def test_retrograde_throughput_peaks_at_the_plateau_and_bends_before_it() -> None:
    # USL-shaped: one worker per 100 req/s offered, peaking at N* = √(0.99 / 0.01) ≈ 10.
    workers = [rate / 100 for rate in OFFERED]
    achieved = [100 * n / (1 + 0.01 * (n - 1) + 0.01 * n * (n - 1)) for n in workers]

    saturation = find_saturation(OFFERED, achieved)

    assert saturation.plateau.step == 9
    assert saturation.knee is not None
    assert saturation.knee.offered <= saturation.plateau.offered


def test_too_few_steps_gives_no_knee_but_still_plateau_and_shortfall() -> None:
    saturation = find_saturation([100, 200, 300], [100, 200, 200])

    assert saturation.status is KneeStatus.TOO_FEW_STEPS
    assert saturation.knee is None
    assert saturation.plateau.step == 1  # the first of the equal best steps
    assert saturation.falls_behind == StepRate(2, 300, 200)


def test_falls_behind_is_the_first_step_under_the_tolerance() -> None:
    achieved = [100, 200, 290, 370, 420]  # served shares 1, 1, 0.967, 0.925, 0.84

    assert find_saturation([100, 200, 300, 400, 500], achieved).falls_behind == StepRate(
        3, 400, 370
    )
    loose = find_saturation([100, 200, 300, 400, 500], achieved, tolerance=0.9)
    assert loose.falls_behind == StepRate(4, 500, 420)


def test_a_flat_curve_was_saturated_from_the_first_step() -> None:
    saturation = find_saturation(OFFERED, [500.0] * len(OFFERED))

    assert saturation.status is KneeStatus.NOT_FOUND
    assert saturation.falls_behind is not None
    assert saturation.falls_behind.offered == 600
    assert saturation.sustainable.achieved == 500


def test_unmeasured_steps_are_skipped_and_indices_kept() -> None:
    achieved = capped(1000)
    achieved[3] = math.nan
    offered = list(OFFERED)
    offered[15] = math.inf

    saturation = find_saturation(offered, achieved)

    assert saturation.knee == StepRate(9, 1000, 1000)


def test_efficiency_is_the_served_share() -> None:
    assert StepRate(0, 400, 300).efficiency == 0.75
    assert math.isnan(StepRate(0, 0, 0).efficiency)


@pytest.mark.parametrize(
    ("offered", "achieved", "tolerance"),
    [
        ([100, 200], [100], 0.95),  # lengths differ
        ([100, 200, 200, 300], [100, 200, 200, 300], 0.95),  # offered does not rise
        ([300, 200, 100, 50], [300, 200, 100, 50], 0.95),
        ([-100, 100, 200, 300], [0, 100, 200, 300], 0.95),
        ([math.nan, 100], [100, math.nan], 0.95),  # nothing measured
        ([100, 200, 300, 400], [100, 200, 300, 400], 1.5),
        ([100, 200, 300, 400], [100, 200, 300, 400], 0.0),
    ],
)
def test_rejects_what_is_not_a_step_ramp(
    offered: list[float], achieved: list[float], tolerance: float
) -> None:
    with pytest.raises(ValueError):
        find_saturation(offered, achieved, tolerance=tolerance)
