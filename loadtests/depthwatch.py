"""The diff depth stream as a bot's local book lives on it: how late its events arrive, how
often the book had to be rebuilt, and how far the book's top stood from the REST book.

- Lag = receive time − the event time `E`, recorded like the liquidation feed's (the same
  names, so a `depth_stream` row carries it in its feed fields; see `feedwatch.py`).
- A gap is an event whose `pu` is not the previous event's `u` once the book was in step: an
  update was missed, the book is wrong and must be rebuilt from a REST snapshot. An event that
  fails to join a fresh snapshot is the snapshot's fault, not the stream's, and is not a gap.
- A resync is a snapshot the book was rebuilt from after its first: gaps, snapshots older than
  the stream, and reconnections all cost one.
- The top of the book is checked against each REST depth read the market-data users make, at
  the moment its answer arrives: how many reads saw a different best bid or ask, and by how
  many ticks the further of the two sides was off (0 when they agreed).

Tallies are kept per symbol (the `symbol` of a `SeriesKey` in the `depth_stream` series); the
overall figures pool them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from loadtests.feedwatch import feed_stats, record_event
from loadtests.metrics import Percentiles, Tally

DEPTH = "depth_stream"
"""The series the depth stream's tallies are kept under."""

DEPTH_GAPS = "depth_gaps"
DEPTH_RESYNCS = "depth_resyncs"
TOP_SAMPLES = "top_samples"
TOP_DIFFERENT = "top_different"
TOP_OFF_TICKS = "top_off_ticks"
"""Histogram: ticks between the local and the REST top, the further side, per read compared
(0 when they agree), so its percentiles say how far off a bot's view of the touch was."""


class Top(NamedTuple):
    """Best bid and best ask; None for an empty side."""

    bid: Decimal | None
    ask: Decimal | None


def record_depth_event(
    tally: Tally, *, event_time_ms: int, received_at: float, gap: bool = False
) -> None:
    """One `depthUpdate`, stamped `event_time_ms` and received at `received_at` (seconds since
    the epoch); `gap` when it broke the book's chain."""
    record_event(tally, event_time_ms=event_time_ms, received_at=received_at)
    if gap:
        tally.count(DEPTH_GAPS)


def record_resync(tally: Tally) -> None:
    tally.count(DEPTH_RESYNCS)


def record_top(tally: Tally, local: Top, rest: Top, tick: Decimal) -> None:
    """One REST depth read's top compared with the local book's at the same moment."""
    tally.count(TOP_SAMPLES)
    if local != rest:
        tally.count(TOP_DIFFERENT)
    if local.bid is None or rest.bid is None or local.ask is None or rest.ask is None:
        return  # a side one book has and the other lacks is off by no number of ticks
    off = max(abs(local.bid - rest.bid), abs(local.ask - rest.ask)) / tick
    tally.observe(TOP_OFF_TICKS, float(off))


@dataclass(frozen=True, slots=True)
class DepthStats:
    events: int
    gaps: int
    resyncs: int
    lag_ms: Percentiles | None
    top_samples: int
    top_different: int
    top_off_ticks: Percentiles | None

    @property
    def gap_rate(self) -> float | None:
        """Gaps ÷ events received; None when none were."""
        return self.gaps / self.events if self.events else None

    @property
    def top_different_rate(self) -> float | None:
        """REST reads whose top differed from the local book's ÷ reads compared."""
        return self.top_different / self.top_samples if self.top_samples else None


def depth_stats(tallies: Iterable[Tally]) -> DepthStats:
    """The depth stream's figures over `tallies`: one symbol's, or every symbol's pooled."""
    pooled = Tally.combine(tallies)
    counts, feed = pooled.counts, feed_stats([pooled])
    return DepthStats(
        events=feed.events,
        gaps=counts.get(DEPTH_GAPS, 0),
        resyncs=counts.get(DEPTH_RESYNCS, 0),
        lag_ms=feed.lag_ms,
        top_samples=counts.get(TOP_SAMPLES, 0),
        top_different=counts.get(TOP_DIFFERENT, 0),
        top_off_ticks=pooled.percentiles(TOP_OFF_TICKS),
    )
