"""Read-your-writes staleness, measured black-box through probe accounts.

Probe accounts are traded by the harness alone, so it knows every state their positions pass
through. A position read sent at time t is **stale** when it misses a fill the exchange
acknowledged to this client before t; its **age** is t − the ack time of the oldest missing
fill. A fill acknowledged after t may or may not show; either way the read is **fresh**. A read
that matches no state the probe went through is **inconsistent** (a lost or invented fill).

To make states distinguishable, each (probe account, symbol) walks its position through distinct
values: +1, +2, ..., +K units, then flips to −1 and walks down to −K, then flips back to +1 and
so on. Within a period of 2K fills no position repeats, and zero only appears before the first
fill. A read that matches several states is given the benefit of the doubt: the most recent one
(the youngest age, or fresh). So a stale read is identified exactly while it is less than a
period behind; an older one is reported with the youngest age it could have, a lower bound (and
a read of zero, more than a period after the first fill, as inconsistent).

The venue may move a probe's position itself: auto-deleveraging closes profitable positions when
a cascade exhausts the insurance fund, and it did on October 10-11, 2025. A read that shows a
state the probe never planned, or an older state of its walk, counts as **moved by the venue**,
not judged, only when the venue itself reports closing part of this probe's position (a
liquidation or auto-deleveraging order in `/fapi/v1/forceOrders`) that no earlier read was
explained by; the walk then goes on from the position it found. A forced close of whole units
lands on an older state exactly, so without the venue's record it would pass for a read model
seconds behind. Any other unplanned state is **inconsistent**: a read model that applied a
later fill but missed an earlier one shows exactly such a state, with a recent `updateTime`,
and that is the anomaly the probe exists to catch.

Rules the probe driver follows: one probe order in flight per (account, symbol), sent only
after the previous one is resolved; a filled order is recorded when its ack arrives (or, after a
408/-1007, when its status is learned); the probe accounts are funded far above their positions,
so they are never liquidated.

Against the mock, two white-box headers add the journal's view: how many journal events the
read model was behind when it served the read.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from loadtests.metrics import Tally, header_ints

READS = "reads"
STALE_READS = "stale_reads"
INCONSISTENT_READS = "inconsistent_reads"
MOVED_READS = "moved_reads"
STALE_AGE_US = "stale_age_us"
JOURNAL_LAG_EVENTS = "journal_lag_events"

READ_SEQ_HEADER = "x-stampede-read-seq"
"""The journal sequence the read model had applied when it served the read."""
JOURNAL_SEQ_HEADER = "x-stampede-journal-seq"
"""The journal's head at the same moment."""

DEFAULT_WALK = 10


class ReadKind(StrEnum):
    FRESH = "fresh"
    STALE = "stale"
    INCONSISTENT = "inconsistent"
    MOVED = "moved"


@dataclass(frozen=True, slots=True)
class ReadVerdict:
    kind: ReadKind
    age: float | None = None
    """Seconds, for a stale read: send time − ack time of the oldest missing fill."""


FRESH = ReadVerdict(ReadKind.FRESH)
INCONSISTENT = ReadVerdict(ReadKind.INCONSISTENT)
MOVED = ReadVerdict(ReadKind.MOVED)


@dataclass(frozen=True, slots=True)
class ProbeOrder:
    """The market order that moves a probe position to its next state."""

    side: Literal["BUY", "SELL"]
    qty: Decimal
    position_after: Decimal


def walk_position(n: int, unit: Decimal, walk: int = DEFAULT_WALK) -> Decimal:
    """The planned position after the probe's n-th fill (0 before the first)."""
    if n == 0:
        return Decimal(0)
    step = (n - 1) % (2 * walk)
    return unit * (step + 1) if step < walk else -unit * (step - walk + 1)


@dataclass(slots=True)
class _Probe:
    fills: int
    position: Decimal
    history: deque[tuple[Decimal, float]]
    """(position, ack time) of the recent states, oldest first."""
    pending: Decimal | None = None
    """The position the order in flight will leave, if it fills."""
    closed_ms: int = 0
    """The venue's time of the latest forced order of this probe a read was explained by."""


class StalenessTracker:
    """Plans the probe walk of every (probe account, symbol) and judges position reads."""

    def __init__(self, unit: Decimal, walk: int = DEFAULT_WALK) -> None:
        if unit <= 0 or walk < 1:
            raise ValueError("the walk needs a positive unit and at least one step")
        self.unit = unit
        self.walk = walk
        self._probes: dict[tuple[str, str], _Probe] = {}

    def next_order(self, account: str, symbol: str) -> ProbeOrder:
        """The probe order to send next; refuses while the previous one is unresolved, since
        overlapping orders would make the order of states unknowable."""
        probe = self._probe(account, symbol)
        if probe.pending is not None:
            raise RuntimeError(f"probe {account}/{symbol} already has an order in flight")
        target = walk_position(probe.fills + 1, self.unit, self.walk)
        delta = target - probe.position
        probe.pending = target
        return ProbeOrder("BUY" if delta > 0 else "SELL", abs(delta), target)

    def filled(
        self,
        account: str,
        symbol: str,
        *,
        acked_at: float,
        position: Decimal | None = None,
    ) -> None:
        """The order in flight filled and this client learned so at `acked_at`. `position` is
        the position it left when that differs from the plan (a partial fill)."""
        probe = self._probe(account, symbol)
        if probe.pending is None:
            raise RuntimeError(f"probe {account}/{symbol} has no order in flight")
        probe.position = probe.pending if position is None else position
        probe.fills += 1
        probe.history.append((probe.position, acked_at))
        probe.pending = None

    def abandoned(self, account: str, symbol: str) -> None:
        """The order in flight was refused and will never fill."""
        self._probe(account, symbol).pending = None

    def by_walk(
        self, account: str, symbol: str, *, sent_at: float, position: Decimal
    ) -> ReadVerdict:
        """A read sent at `sent_at` judged by the walk alone. Only a read it does not show
        fresh needs the venue's record of forced orders to be judged."""
        probe = self._probe(account, symbol)
        return FRESH if position == probe.pending else self._judge(probe, sent_at, position)

    def observe(
        self,
        account: str,
        symbol: str,
        *,
        sent_at: float,
        position: Decimal,
        venue_closed_ms: int | None = None,
    ) -> ReadVerdict:
        """Judge a position read sent at `sent_at` that showed `position`. `venue_closed_ms` is
        the venue's time of the latest liquidation or auto-deleveraging it reports for this
        probe and symbol (None when it reports none, or was not asked)."""
        probe = self._probe(account, symbol)
        if position == probe.pending:
            return FRESH
        verdict = self._judge(probe, sent_at, position)
        # Not where the walk has it, and the venue says it closed part of it since the last
        # move it explained: the venue moved it (after the probe's fill, or before it while
        # the order was in flight). That holds for an older state of the walk too: a forced
        # close of a unit or two takes the position back to exactly such a state, and judging
        # it stale would date a venue's move as a read model's lag, from the ack of a fill
        # the read model applied long ago.
        if (
            venue_closed_ms is not None
            and venue_closed_ms > probe.closed_ms
            and verdict.kind is not ReadKind.FRESH
        ):
            probe.closed_ms = venue_closed_ms
            # The walk goes on from here: older states no longer describe this position.
            probe.history.clear()
            probe.history.append((probe.position, sent_at))
            return MOVED
        return verdict

    @staticmethod
    def _judge(probe: _Probe, sent_at: float, position: Decimal) -> ReadVerdict:
        """The read against the walk alone: fresh, stale by its age, or inconsistent."""
        oldest_missing: float | None = None
        # Newest state first: the first match is the most recent state the read could show.
        # Every newer state acked before the send is a fill the read misses; acks come in
        # state order, so the last one passed is the oldest.
        for state, acked_at in reversed(probe.history):
            if state == position:
                if oldest_missing is None:
                    return FRESH
                return ReadVerdict(ReadKind.STALE, sent_at - oldest_missing)
            if acked_at < sent_at:
                oldest_missing = acked_at
        return INCONSISTENT

    def position(self, account: str, symbol: str) -> Decimal:
        """Where the walk has the position now, relative to the probe's baseline."""
        return self._probe(account, symbol).position

    def _probe(self, account: str, symbol: str) -> _Probe:
        probe = self._probes.get((account, symbol))
        if probe is None:
            # One period of states, plus the one before it, holds every position the walk can
            # show; older states only repeat them.
            history = deque([(Decimal(0), float("-inf"))], maxlen=2 * self.walk + 1)
            probe = self._probes[(account, symbol)] = _Probe(0, Decimal(0), history)
        return probe


def record_read(tally: Tally, verdict: ReadVerdict) -> None:
    if verdict.kind is ReadKind.MOVED:
        tally.count(MOVED_READS)  # not judged, so not a read the staleness rate counts
        return
    tally.count(READS)
    if verdict.kind is ReadKind.INCONSISTENT:
        tally.count(INCONSISTENT_READS)
    elif verdict.kind is ReadKind.STALE:
        tally.count(STALE_READS)
        tally.observe(STALE_AGE_US, (verdict.age or 0.0) * 1e6)


def journal_lag(headers: Mapping[str, str]) -> int | None:
    """Journal events the read model was behind when it served this read, from the mock's
    white-box headers; None when the target does not send them."""
    seqs = header_ints(headers, (READ_SEQ_HEADER, JOURNAL_SEQ_HEADER))
    if len(seqs) < 2:
        return None
    return max(0, seqs[JOURNAL_SEQ_HEADER] - seqs[READ_SEQ_HEADER])


def record_journal_lag(tally: Tally, headers: Mapping[str, str]) -> None:
    lag = journal_lag(headers)
    if lag is not None:
        tally.observe(JOURNAL_LAG_EVENTS, lag)
