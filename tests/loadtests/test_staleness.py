from __future__ import annotations

from decimal import Decimal

import pytest

from loadtests.metrics import Tally
from loadtests.staleness import (
    INCONSISTENT_READS,
    JOURNAL_LAG_EVENTS,
    MOVED_READS,
    READS,
    STALE_AGE_US,
    STALE_READS,
    ReadKind,
    ReadVerdict,
    StalenessTracker,
    journal_lag,
    record_journal_lag,
    record_read,
    walk_position,
)

UNIT = Decimal("0.002")
ACCOUNT, SYMBOL = "probe-1", "BTCUSDT"


def _fill(tracker: StalenessTracker, acked_at: float) -> Decimal:
    order = tracker.next_order(ACCOUNT, SYMBOL)
    tracker.filled(ACCOUNT, SYMBOL, acked_at=acked_at)
    return order.position_after


def _read(tracker: StalenessTracker, sent_at: float, position: Decimal) -> ReadVerdict:
    return tracker.observe(ACCOUNT, SYMBOL, sent_at=sent_at, position=position)


@pytest.fixture
def tracker() -> StalenessTracker:
    return StalenessTracker(UNIT, walk=3)


def test_the_walk_never_repeats_a_position_within_a_period() -> None:
    positions = [walk_position(n, Decimal(1), walk=3) for n in range(13)]
    assert positions == [0, 1, 2, 3, -1, -2, -3, 1, 2, 3, -1, -2, -3]
    assert len(set(positions[1:7])) == 6


def test_probe_orders_walk_up_then_flip_down(tracker: StalenessTracker) -> None:
    orders = []
    for t in range(5):
        orders.append(tracker.next_order(ACCOUNT, SYMBOL))
        tracker.filled(ACCOUNT, SYMBOL, acked_at=float(t))
    assert [(o.side, o.qty, o.position_after) for o in orders] == [
        ("BUY", UNIT, UNIT),
        ("BUY", UNIT, 2 * UNIT),
        ("BUY", UNIT, 3 * UNIT),
        ("SELL", 4 * UNIT, -UNIT),
        ("SELL", UNIT, -2 * UNIT),
    ]


def test_a_read_showing_the_last_acked_fill_is_fresh(tracker: StalenessTracker) -> None:
    _fill(tracker, acked_at=1.0)
    latest = _fill(tracker, acked_at=2.0)
    assert _read(tracker, 2.5, latest).kind is ReadKind.FRESH


def test_a_read_missing_fills_is_stale_by_the_oldest_missing_ack(
    tracker: StalenessTracker,
) -> None:
    first = _fill(tracker, acked_at=1.0)
    _fill(tracker, acked_at=2.0)
    _fill(tracker, acked_at=3.0)
    verdict = _read(tracker, 3.5, first)
    assert verdict.kind is ReadKind.STALE
    assert verdict.age == pytest.approx(1.5)
    before_any = _read(tracker, 3.5, Decimal(0))
    assert before_any.age == pytest.approx(2.5)


def test_fills_acked_after_the_read_was_sent_may_or_may_not_show(
    tracker: StalenessTracker,
) -> None:
    first = _fill(tracker, acked_at=1.0)
    second = _fill(tracker, acked_at=5.0)
    assert _read(tracker, 3.0, first).kind is ReadKind.FRESH
    assert _read(tracker, 3.0, second).kind is ReadKind.FRESH


def test_a_fill_acked_exactly_at_the_send_is_not_before_it(tracker: StalenessTracker) -> None:
    first = _fill(tracker, acked_at=1.0)
    _fill(tracker, acked_at=2.0)
    assert _read(tracker, 2.0, first).kind is ReadKind.FRESH
    assert _read(tracker, 2.001, first).kind is ReadKind.STALE


def test_a_read_already_showing_the_order_in_flight_is_fresh(tracker: StalenessTracker) -> None:
    _fill(tracker, acked_at=1.0)
    in_flight = tracker.next_order(ACCOUNT, SYMBOL)
    assert _read(tracker, 2.0, in_flight.position_after).kind is ReadKind.FRESH


def test_a_position_the_probe_never_held_is_inconsistent(tracker: StalenessTracker) -> None:
    _fill(tracker, acked_at=1.0)
    assert _read(tracker, 2.0, 7 * UNIT).kind is ReadKind.INCONSISTENT
    assert _read(tracker, 2.0, -UNIT).kind is ReadKind.INCONSISTENT


def test_a_repeated_position_gets_the_benefit_of_the_doubt(tracker: StalenessTracker) -> None:
    # Walk of 3: +1 +2 +3 -1 -2 -3 +1 ...: +1 is held after fills 1 and 7.
    for t in range(1, 8):
        _fill(tracker, acked_at=float(t))
    assert _read(tracker, 7.5, UNIT).kind is ReadKind.FRESH
    _fill(tracker, acked_at=8.0)
    assert _read(tracker, 8.5, UNIT).age == pytest.approx(0.5)


def test_only_one_probe_order_is_in_flight_at_a_time(tracker: StalenessTracker) -> None:
    first = tracker.next_order(ACCOUNT, SYMBOL)
    with pytest.raises(RuntimeError, match="in flight"):
        tracker.next_order(ACCOUNT, SYMBOL)
    tracker.abandoned(ACCOUNT, SYMBOL)
    assert tracker.next_order(ACCOUNT, SYMBOL) == first
    assert tracker.next_order("probe-2", SYMBOL) == first


def test_a_partial_fill_records_the_position_it_left(tracker: StalenessTracker) -> None:
    _fill(tracker, acked_at=1.0)
    tracker.next_order(ACCOUNT, SYMBOL)
    tracker.filled(ACCOUNT, SYMBOL, acked_at=2.0, position=UNIT * Decimal("1.5"))
    assert _read(tracker, 3.0, UNIT * Decimal("1.5")).kind is ReadKind.FRESH
    # The walk goes on from where the fill really left it.
    follow_up = tracker.next_order(ACCOUNT, SYMBOL)
    assert (follow_up.side, follow_up.qty) == ("BUY", UNIT * Decimal("1.5"))
    assert follow_up.position_after == 3 * UNIT


def _fill_at(tracker: StalenessTracker, acked_at: float) -> Decimal:
    order = tracker.next_order(ACCOUNT, SYMBOL)
    tracker.filled(ACCOUNT, SYMBOL, acked_at=acked_at)
    return order.position_after


def _read_at(
    tracker: StalenessTracker, sent_at: float, position: Decimal, closed_ms: int | None = None
) -> ReadKind:
    verdict = tracker.observe(
        ACCOUNT, SYMBOL, sent_at=sent_at, position=position, venue_closed_ms=closed_ms
    )
    return verdict.kind


def test_a_position_the_venue_reports_closing_is_moved_not_judged(
    tracker: StalenessTracker,
) -> None:
    """Auto-deleveraging takes part of the position after the probe's last fill, and the
    venue's forceOrders says so: that read is neither stale nor inconsistent, and the walk
    goes on from where the venue left it."""
    _fill_at(tracker, acked_at=1.0)
    second = _fill_at(tracker, acked_at=2.0)
    deleveraged = second - UNIT / 2
    assert _read_at(tracker, 3.0, deleveraged, closed_ms=2_500) is ReadKind.MOVED
    # The probe counts the venue's move into its baseline, so the next reads show the plan.
    assert _read_at(tracker, 3.5, second, closed_ms=2_500) is ReadKind.FRESH
    third = _fill_at(tracker, acked_at=4.0)
    assert _read_at(tracker, 4.5, third) is ReadKind.FRESH
    assert _read_at(tracker, 4.6, second) is ReadKind.STALE
    # The same forced order explains one move, not another unplanned state after it.
    assert _read_at(tracker, 4.7, third + UNIT / 4, closed_ms=2_500) is ReadKind.INCONSISTENT


def test_an_unplanned_state_the_venue_does_not_explain_is_inconsistent(
    tracker: StalenessTracker,
) -> None:
    """However recent its updateTime, a state the walk never had with no forced order on the
    venue's record is a wrong read (fills applied out of order, lost or invented)."""
    _fill_at(tracker, acked_at=1.0)
    second = _fill_at(tracker, acked_at=2.0)
    assert (
        tracker.by_walk(ACCOUNT, SYMBOL, sent_at=3.0, position=second + UNIT).kind
        is ReadKind.INCONSISTENT
    )
    assert _read_at(tracker, 3.0, second + UNIT) is ReadKind.INCONSISTENT


def test_an_older_state_the_venue_closed_back_to_is_moved_not_stale(
    tracker: StalenessTracker,
) -> None:
    """Auto-deleveraging that takes one unit off a position two units long leaves it exactly
    where the walk was a fill ago. With the venue's forced close on record the read is the
    venue's move, not a read model missing that fill; a later forced close is needed to excuse
    a later read, so a read still showing the old state is stale again."""
    first = _fill_at(tracker, acked_at=1.0)
    second = _fill_at(tracker, acked_at=2.0)
    assert tracker.by_walk(ACCOUNT, SYMBOL, sent_at=3.0, position=first).kind is ReadKind.STALE
    assert _read_at(tracker, 3.0, first) is ReadKind.STALE
    assert _read_at(tracker, 3.0, first, closed_ms=2_500) is ReadKind.MOVED
    # The walk goes on (the probe counts the venue's unit into its baseline).
    third = _fill_at(tracker, acked_at=4.0)
    assert _read_at(tracker, 4.5, third) is ReadKind.FRESH
    assert _read_at(tracker, 5.0, second, closed_ms=2_500) is ReadKind.STALE


def test_verdicts_are_tallied_with_the_stale_age() -> None:
    tally = Tally()
    record_read(tally, ReadVerdict(ReadKind.FRESH))
    record_read(tally, ReadVerdict(ReadKind.STALE, age=0.25))
    record_read(tally, ReadVerdict(ReadKind.INCONSISTENT))
    record_read(tally, ReadVerdict(ReadKind.MOVED))
    assert tally.counts == {READS: 3, STALE_READS: 1, INCONSISTENT_READS: 1, MOVED_READS: 1}
    age = tally.percentiles(STALE_AGE_US, unit=1000)
    assert age is not None
    assert age.p50 == pytest.approx(250, rel=1e-3)


def test_journal_lag_comes_from_the_mocks_headers_when_it_sends_them() -> None:
    headers = {"X-Stampede-Read-Seq": "1200", "X-Stampede-Journal-Seq": "1450"}
    assert journal_lag(headers) == 250
    assert journal_lag({"X-Stampede-Read-Seq": "1200"}) is None
    assert journal_lag({}) is None
    tally = Tally()
    record_journal_lag(tally, headers)
    record_journal_lag(tally, {})
    assert tally.total(JOURNAL_LAG_EVENTS) == 1
