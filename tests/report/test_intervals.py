from __future__ import annotations

import pytest

from loadtests.metrics import new_histogram
from loadtests.report.intervals import (
    count_above,
    percentile_estimate,
    poisson,
    quantile_ranks,
    wilson,
)


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        # p = 8/1000, z = 1.96, z²/n = 0.0038415:
        # centre = (0.008 + 0.0019208) / 1.0038415 = 0.0098830
        # half = 1.96 * sqrt(0.008 * 0.992 / 1000 + 3.8415 / 4e6) / 1.0038415 = 0.0058237
        (8, 1000, 0.0040593, 0.0157067),
        # p = 30/1000: centre = (0.03 + 0.0019208) / 1.0038415 = 0.0317987
        # half = 1.96 * sqrt(0.03 * 0.97 / 1000 + 9.604e-7) / 1.0038415 = 0.0107051
        (30, 1000, 0.0210936, 0.0425038),
        # p = 8/2400, z²/n = 0.0016006: centre = (0.0033333 + 0.0008003) / 1.0016006
        # = 0.0041270; half = 1.96 * sqrt(1.38426e-6 + 1.66731e-7) / 1.0016006 = 0.0024371
        (8, 2400, 0.0016899, 0.0065641),
        # None of 100: the lower end is 0, the upper z²/n / (1 + z²/n) = 0.038415 / 1.038415.
        (0, 100, 0.0, 0.0369936),
        # All of 20: the upper end is 1, the lower 1 / (1 + z²/n) = 1 / 1.192075.
        (20, 20, 0.8388736, 1.0),
    ],
)
def test_wilson_bounds_match_the_hand_computed_ones(
    successes: int, trials: int, low: float, high: float
) -> None:
    estimate = wilson(successes, trials)

    assert estimate.value == successes / trials
    assert (estimate.low, estimate.high) == pytest.approx((low, high), rel=1e-4, abs=1e-9)
    assert estimate.samples == trials


def test_a_share_of_nothing_has_no_interval() -> None:
    with pytest.raises(ValueError):
        wilson(0, 0)


@pytest.mark.parametrize(
    ("count", "low", "high"),
    [
        # k = 40: centre = 40 + 1.9208 = 41.9208, half = 1.96 * sqrt(40.9604) = 12.5438.
        (40, 29.3769, 54.4646),
        # k = 0: the lower end is 0, the upper z² = 3.8415 (the exact 95% bound is 3.69).
        (0, 0.0, 3.8415),
        # k = 1000: half = 1.96 * sqrt(1000.9604) = 62.0093, about ±6%.
        (1000, 939.9115, 1063.9300),
    ],
)
def test_poisson_bounds_match_the_hand_computed_ones(count: int, low: float, high: float) -> None:
    estimate = poisson(count)

    assert (estimate.value, estimate.samples) == (count, count)
    assert (estimate.low, estimate.high) == pytest.approx((low, high), rel=1e-4, abs=1e-9)


@pytest.mark.parametrize(
    ("n", "q", "ranks"),
    [
        (100, 0.5, (40, 61)),  # the median of 100: the textbook 40th and 61st values
        (50, 0.5, (18, 33)),
        (1000, 0.99, (983, 997)),
        # 0.99^368 = 0.0247 ≤ 2.5%: the largest of 368 samples bounds a p99 from above...
        (368, 0.99, (360, 368)),
        # ...but 0.99^367 = 0.0250 is not, so 367 samples cannot: no upper rank.
        (367, 0.99, (359, 368)),
        (50, 0.99, (48, 51)),
    ],
)
def test_quantile_ranks_are_the_binomial_ones(n: int, q: float, ranks: tuple[int, int]) -> None:
    assert quantile_ranks(n, q) == ranks


def test_a_percentile_interval_reads_its_ranks_through_the_histogram() -> None:
    histogram = new_histogram()
    for value in range(1, 1001):
        histogram.record_value(value)

    estimate = percentile_estimate(histogram, 0.99, unit=10)

    # Ranks 983 and 997 of the values 1..1000 (exact below 2,048 at three significant figures).
    assert estimate is not None
    assert (estimate.value, estimate.low, estimate.high) == (99.0, 98.3, 99.7)
    assert estimate.samples == 1000


def test_too_few_samples_leave_a_percentile_without_an_upper_end() -> None:
    histogram = new_histogram()
    for value in range(1, 101):
        histogram.record_value(value)

    estimate = percentile_estimate(histogram, 0.99)

    assert estimate is not None
    assert estimate.high is None
    # P(at most 96 of 100 below the p99) = 1.8% ≤ 2.5% < P(at most 97) = 7.9%: rank 97 bounds
    # it from below.
    assert estimate.low == 97


def test_an_empty_histogram_has_no_percentile() -> None:
    assert percentile_estimate(new_histogram(), 0.99) is None


def test_count_above_leaves_out_the_bucket_of_the_threshold() -> None:
    histogram = new_histogram()
    for value in range(1, 1001):
        histogram.record_value(value)

    assert count_above(histogram, 250) == 750
    assert count_above(histogram, 0) == 1000
    assert count_above(histogram, 1000) == 0
