"""What each step measured, as counts and histograms: the form that adds up across runs.

Percentiles do not average, but HDR histograms add bucket by bucket and counts add, so runs of
one profile pool into the samples one longer run would have taken; the SLO values and their
intervals are computed from the pool. A run's files hold everything needed: the outcome counts
and probe reads of its step rows, and the histograms it wrote beside them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from hdrh.histogram import HdrHistogram
from pydantic import BaseModel, ConfigDict

from loadtests.depthwatch import DEPTH
from loadtests.feedwatch import FEED, FEED_LAG_US
from loadtests.metrics import CORRECTED_US, Outcome, new_histogram
from loadtests.profiles import RequestClass
from loadtests.report.intervals import Estimate, count_above, percentile_estimate, wilson
from loadtests.results import RunResult
from loadtests.staleness import STALE_AGE_US

P99 = 0.99
_REQUEST_SERIES = frozenset(klass.value for klass in RequestClass)
STALE_AGES_MS = (0.0, 100.0, 1000.0, 10_000.0)
"""The ages the report shows the share of reads stale beyond, so a reader sees the shape: a
microsecond race with the projector, or positions seconds and minutes old."""


class StaleShare(BaseModel):
    """The share of a step's probe reads stale by more than `age_ms`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    age_ms: float
    estimate: Estimate


@dataclass(slots=True)
class StepSamples:
    """One step's measurements of every request class, the feeds and the probe reads."""

    outcomes: Counter[Outcome] = field(default_factory=Counter)
    """Every request class's outcomes, added."""
    latency: dict[RequestClass, HdrHistogram] = field(default_factory=dict)
    """Corrected latency (µs from the intended send time), per class."""
    reads: int = 0
    """Probe reads judged for staleness."""
    stale_reads: int = 0
    """Probe reads that missed an acknowledged fill, however briefly: strict read-your-writes."""
    stale_ages: HdrHistogram = field(default_factory=new_histogram)
    """The stale reads' ages, µs."""
    feed_events: int = 0
    liquidations: int = 0
    feed_lag: HdrHistogram = field(default_factory=new_histogram)
    """Liquidation feed lag, µs, every symbol."""
    depth_events: int = 0
    depth_gaps: int = 0
    depth_lag: HdrHistogram = field(default_factory=new_histogram)
    """Diff depth stream lag, µs, every symbol and load-generating process."""

    def add(self, other: StepSamples) -> None:
        self.outcomes.update(other.outcomes)
        for klass, histogram in other.latency.items():
            self.latency.setdefault(klass, new_histogram()).add(histogram)
        self.reads += other.reads
        self.stale_reads += other.stale_reads
        self.stale_ages.add(other.stale_ages)
        self.feed_events += other.feed_events
        self.liquidations += other.liquidations
        self.feed_lag.add(other.feed_lag)
        self.depth_events += other.depth_events
        self.depth_gaps += other.depth_gaps
        self.depth_lag.add(other.depth_lag)

    @property
    def requests(self) -> int:
        return sum(self.outcomes.values())

    def share(self, outcomes: Iterable[Outcome]) -> Estimate | None:
        """The share of requests that ended in any of `outcomes`; None when none were sent."""
        if not self.requests:
            return None
        return wilson(sum(self.outcomes[outcome] for outcome in outcomes), self.requests)

    def p99_ms(self, klass: RequestClass) -> Estimate | None:
        histogram = self.latency.get(klass)
        return None if histogram is None else percentile_estimate(histogram, P99, unit=1000)

    def stale_beyond(self, age_ms: float) -> Estimate | None:
        """The share of probe reads stale by more than `age_ms` (0: any stale read); None
        without probe reads."""
        if not self.reads:
            return None
        if age_ms <= 0:
            return wilson(self.stale_reads, self.reads)
        return wilson(min(self.reads, count_above(self.stale_ages, age_ms * 1000)), self.reads)

    def stale_shape(self) -> tuple[StaleShare, ...]:
        """The share of reads stale beyond each of `STALE_AGES_MS`; empty without probe
        reads."""
        return tuple(
            StaleShare(age_ms=age, estimate=estimate)
            for age in STALE_AGES_MS
            if (estimate := self.stale_beyond(age)) is not None
        )

    def stale_age_p99_ms(self) -> Estimate | None:
        return percentile_estimate(self.stale_ages, P99, unit=1000)

    def feed_lag_p99_ms(self) -> Estimate | None:
        return percentile_estimate(self.feed_lag, P99, unit=1000)

    def feed_completeness(self) -> Estimate | None:
        """Events seen ÷ true liquidations; None when nothing was liquidated. The feed may push
        more than the counter saw (a late count), which counts as complete."""
        if not self.liquidations:
            return None
        return wilson(min(self.feed_events, self.liquidations), self.liquidations)

    def depth_lag_p99_ms(self) -> Estimate | None:
        return percentile_estimate(self.depth_lag, P99, unit=1000)

    def depth_gap_rate(self) -> Estimate | None:
        """Gaps ÷ depth events received; None when the stream was not followed."""
        if not self.depth_events:
            return None
        return wilson(min(self.depth_gaps, self.depth_events), self.depth_events)


def step_samples(run: RunResult) -> tuple[StepSamples, ...]:
    """Each step of `run`'s profile, from its step rows (every symbol) and histograms."""
    found = [StepSamples() for _ in run.profile.phases]
    # The step rows say what the run measured: a histogram without one is not counted.
    measured = {(row.index, row.series) for row in run.steps}
    for row in run.steps:
        if row.symbol is not None or row.index >= len(found):
            continue
        samples = found[row.index]
        if row.series == FEED:
            samples.feed_events += row.feed_events
            samples.liquidations += row.liquidations
        elif row.series == DEPTH:
            samples.depth_events += row.feed_events
            samples.depth_gaps += row.depth_gaps
        elif row.series in _REQUEST_SERIES:
            samples.outcomes.update(row.outcomes)
            samples.reads += row.reads
            samples.stale_reads += row.stale_reads
    for key in run.histogram_files:
        index, series = key.series.step_index, key.series.series
        if index >= len(found) or (index, series) not in measured:
            continue
        samples = found[index]
        if key.name == CORRECTED_US and series in _REQUEST_SERIES:
            target = samples.latency.setdefault(RequestClass(series), new_histogram())
        elif key.name == STALE_AGE_US:
            target = samples.stale_ages
        elif key.name == FEED_LAG_US and series == FEED:
            target = samples.feed_lag
        elif key.name == FEED_LAG_US and series == DEPTH:
            target = samples.depth_lag
        else:
            continue
        target.add(run.histogram(key))
    return tuple(found)


def pooled(runs: Sequence[Sequence[StepSamples]]) -> tuple[StepSamples, ...]:
    """Step by step, the samples of runs of one profile added up."""
    if len({len(steps) for steps in runs}) > 1:
        raise ValueError("runs to pool must have the same steps")
    total = tuple(StepSamples() for _ in runs[0]) if runs else ()
    for steps in runs:
        for into, samples in zip(total, steps, strict=True):
            into.add(samples)
    return total
