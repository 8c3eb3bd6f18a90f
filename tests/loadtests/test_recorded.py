"""The fast read of a histogram answers exactly what hdrh's own slow walks answer."""

from __future__ import annotations

import random

import pytest
from hdrh.histogram import HdrHistogram

from loadtests.metrics import new_histogram
from loadtests.recorded import Recorded


def _histogram(seed: int) -> HdrHistogram:
    rng = random.Random(seed)
    histogram = new_histogram()
    for _ in range(rng.randint(1, 2000)):
        histogram.record_value(min(600_000_000, 1 + int(rng.lognormvariate(8, 2.5))))
    return histogram


@pytest.mark.parametrize("seed", range(8))
def test_buckets_percentiles_and_counts_match_hdrh(seed: int) -> None:
    histogram = _histogram(seed)
    recorded = Recorded(histogram)

    assert list(recorded) == [
        (item.value_iterated_to, item.count_at_value_iterated_to)
        for item in histogram.get_recorded_iterator()
    ]
    assert recorded.total == histogram.get_total_count()
    for percentile in (0.1, 50, 90, 99, 99.9, 100):
        assert recorded.value_at_percentile(percentile) == histogram.get_value_at_percentile(
            percentile
        )
    for threshold in (0, 1, 5, 1_000, 3_000.5, 1e5, 1e7, 6e8):
        limit = histogram.get_highest_equivalent_value(int(threshold))
        assert recorded.count_above(threshold) == sum(
            item.count_at_value_iterated_to
            for item in histogram.get_recorded_iterator()
            if item.value_iterated_to > limit
        )


def test_ranks_outside_the_recorded_values_are_refused() -> None:
    recorded = Recorded(_histogram(0))
    with pytest.raises(ValueError, match="beyond"):
        recorded.value_at_rank(recorded.total + 1)
    with pytest.raises(ValueError, match="beyond"):
        recorded.value_at_rank(0)


def test_an_empty_histogram_has_nothing_above_and_a_zero_percentile() -> None:
    recorded = Recorded(new_histogram())
    assert (recorded.total, recorded.count_above(0), recorded.value_at_percentile(99)) == (0, 0, 0)
