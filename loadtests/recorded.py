"""An HDR histogram's recorded values, read once from its counts array.

hdrh's own iterators and percentile lookups walk every one of the histogram's 17,408 buckets in
Python, a few microseconds each: a report asks for dozens of percentiles, ranks and counts per
step, and the harness's Prometheus export reads every histogram at each scrape, so the walk
became most of a report's build time and a steady cost on the load generator's CPU. The counts
array is a C array: numpy finds its non-empty buckets at once, and everything after that works
on those few.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator

import numpy as np
from hdrh.histogram import HdrHistogram


class Recorded:
    """The non-empty buckets of a histogram, ascending: each bucket's value (its highest
    equivalent value, as hdrh reports percentiles) and the count up to and including it."""

    def __init__(self, histogram: HdrHistogram) -> None:
        counts = np.ctypeslib.as_array(histogram.counts)[: histogram.counts_len]
        indices = np.flatnonzero(counts)
        self.values: list[int] = [
            histogram.get_highest_equivalent_value(histogram.get_value_from_index(int(index)))
            for index in indices
        ]
        self.counts: list[int] = [int(count) for count in counts[indices]]
        self.cumulative: list[int] = [int(total) for total in np.cumsum(counts[indices])]
        self._histogram = histogram

    @property
    def total(self) -> int:
        return self.cumulative[-1] if self.cumulative else 0

    def __iter__(self) -> Iterator[tuple[int, int]]:
        """(value, count) of each non-empty bucket, ascending."""
        return zip(self.values, self.counts, strict=True)

    def value_at_rank(self, rank: int) -> int:
        """The `rank`-th smallest recorded value (1-based)."""
        if not 1 <= rank <= self.total:
            raise ValueError(f"rank {rank} beyond the {self.total} values recorded")
        return self.values[bisect.bisect_left(self.cumulative, rank)]

    def value_at_percentile(self, percentile: float) -> int:
        """What hdrh's `get_value_at_percentile` answers (0 for an empty histogram)."""
        if not self.total:
            return 0
        return self.value_at_rank(self._histogram.get_target_count_at_percentile(percentile))

    def count_above(self, threshold: float) -> int:
        """How many recorded values exceed `threshold`, to the histogram's precision: values in
        the bucket holding `threshold` count as not above it."""
        limit = self._histogram.get_highest_equivalent_value(max(0, int(threshold)))
        below = bisect.bisect_right(self.values, limit)
        return self.total - (self.cumulative[below - 1] if below else 0)
