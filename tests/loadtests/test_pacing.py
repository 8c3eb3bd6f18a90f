from __future__ import annotations

import math
import random

import pytest

from loadtests.pacing import (
    LATE_AFTER_S,
    Pacer,
    RateSchedule,
    Segment,
    UserSizing,
    intended_times,
    users_for,
)
from loadtests.profiles import RequestClass, load_profile


def test_a_constant_rate_sends_the_nth_request_at_n_over_the_rate() -> None:
    schedule = RateSchedule.constant(rate=4, duration=10)
    assert schedule.total == 40
    assert [schedule.time_of(n) for n in (1, 2, 4, 40)] == [0.25, 0.5, 1.0, 10.0]
    assert schedule.time_of(41) is None
    assert schedule.time_of(0) is None


def test_a_ramp_sends_exactly_where_the_integral_reaches_n() -> None:
    # r(t) = 100 t / 10 on [0, 10]: N(t) = 5 t², so request n is at sqrt(n / 5).
    schedule = RateSchedule([Segment(0, 10, 0, 100)])
    assert schedule.total == 500
    for n in (1, 7, 250, 499, 500):
        assert schedule.time_of(n) == pytest.approx(math.sqrt(n / 5), rel=1e-12)


def test_a_ramp_down_to_zero_sends_its_last_request_at_the_end() -> None:
    # r(t) = 10 − t on [0, 10]: N(t) = 10 t − t²/2, 50 requests in all.
    schedule = RateSchedule([Segment(0, 10, 10, 0)])
    assert schedule.time_of(50) == pytest.approx(10)
    assert schedule.time_of(32) == pytest.approx(10 - math.sqrt(100 - 64))


def test_long_runs_do_not_drift() -> None:
    # Ten hours at 1000/s: request 36,000,000 is due at exactly 36,000 s.
    schedule = RateSchedule.constant(rate=1000, duration=36_000)
    assert schedule.time_of(36_000_000) == 36_000
    assert schedule.time_of(12_345_678) == pytest.approx(12_345.678, abs=1e-9)


def test_intended_times_invert_the_cumulative_count_across_a_whole_profile() -> None:
    schedule = RateSchedule.for_class(load_profile("may-2021").timeline(), RequestClass.QUERIES)
    rng = random.Random(3)
    for n in [1, int(schedule.total), *rng.sample(range(1, int(schedule.total)), 200)]:
        t = schedule.time_of(n)
        assert t is not None
        assert schedule.count_until(t) == pytest.approx(n, rel=1e-9)


def test_a_silent_stretch_sends_nothing() -> None:
    schedule = RateSchedule([Segment(0, 10, 1, 1), Segment(10, 20, 0, 0), Segment(20, 30, 1, 1)])
    assert schedule.time_of(10) == 10
    assert schedule.time_of(11) == 21
    assert schedule.rate_at(15) == 0


def test_a_profile_schedule_offers_baseline_times_multipliers() -> None:
    profile = load_profile("step-ramp")
    schedule = RateSchedule.for_class(profile.timeline(), RequestClass.ORDERS)
    expected = sum(
        profile.baseline.orders * phase.multipliers.orders * phase.duration_s
        for phase in profile.phases
    )
    assert schedule.total == pytest.approx(expected)
    assert schedule.peak_rate == profile.baseline.orders * 1000
    assert schedule.rate_at(61) == profile.baseline.orders * 2


def test_a_ramping_phase_becomes_a_ramp_then_a_hold() -> None:
    timeline = load_profile("may-2021").timeline()
    schedule = RateSchedule.for_class(timeline, RequestClass.ORDERS)
    sell_off = timeline.windows[1]
    assert schedule.rate_at(sell_off.start) == pytest.approx(5)
    assert schedule.rate_at(sell_off.ramp_end) == pytest.approx(5 * 6.78)
    halfway = (sell_off.start + sell_off.ramp_end) / 2
    assert schedule.rate_at(halfway) == pytest.approx(5 * (1 + 6.78) / 2)


def test_a_schedule_with_a_gap_is_refused() -> None:
    with pytest.raises(ValueError, match="gap or overlap"):
        RateSchedule([Segment(0, 1, 1, 1), Segment(2, 3, 1, 1)])
    with pytest.raises(ValueError, match="non-negative"):
        Segment(0, 1, -1, 1)


def test_strided_generators_together_send_exactly_the_schedule() -> None:
    schedule = RateSchedule([Segment(0, 5, 2, 40), Segment(5, 9, 40, 40)])
    alone = list(intended_times(schedule))
    shares = [list(intended_times(schedule, stride=3, offset=k)) for k in range(3)]
    assert sorted(t for share in shares for t in share) == alone
    assert len(alone) == int(schedule.total)


def test_the_pacer_hands_out_times_in_order_on_the_callers_clock() -> None:
    pacer = Pacer(RateSchedule.constant(rate=2, duration=2), origin=1000)
    claimed = [pacer.claim() for _ in range(5)]
    assert claimed == [1000.5, 1001.0, 1001.5, 1002.0, None]
    assert pacer.stats.claimed == 4


def test_the_pacer_counts_late_sends_beyond_the_tolerance() -> None:
    pacer = Pacer(RateSchedule.constant(rate=10, duration=1), origin=0)
    first, second = pacer.claim(), pacer.claim()
    assert first is not None and second is not None
    assert pacer.sent(first, first + LATE_AFTER_S / 2) == pytest.approx(LATE_AFTER_S / 2)
    assert pacer.sent(second, second + 0.5) == pytest.approx(0.5)
    assert (pacer.stats.sent, pacer.stats.late) == (2, 1)
    assert pacer.stats.worst_lateness == pytest.approx(0.5)


def test_the_pacer_reports_how_overdue_the_next_request_is() -> None:
    pacer = Pacer(RateSchedule.constant(rate=1, duration=10), origin=100)
    assert pacer.behind(now=100.5) == 0
    assert pacer.behind(now=103) == 2
    pacer.claim()
    assert pacer.behind(now=103) == 1


def test_littles_law_sizes_users_with_headroom() -> None:
    assert users_for(rate=500, latency=0.05, headroom=2) == 50
    assert users_for(rate=0, latency=0.05) == 1
    sizing = UserSizing(expected_latency=0.02, headroom=1.5, max_users=100)
    assert sizing.initial(RateSchedule.constant(rate=1000, duration=1)) == 30
    assert sizing.initial(RateSchedule.constant(rate=1e6, duration=1)) == 100


def test_users_grow_only_when_sends_fall_behind() -> None:
    sizing = UserSizing(expected_latency=0.02, behind_after=0.1, growth=1.5, max_users=1000)
    assert sizing.grown(40, rate=1000, latency=2.0, behind=0.05) == 40
    # Behind: Little's law at the observed latency (1000 × 0.2 × 2 = 400) ...
    assert sizing.grown(40, rate=1000, latency=0.2, behind=0.5) == 400
    # ... but at least 1.5x even when the latency estimate says enough ...
    assert sizing.grown(40, rate=1000, latency=0.001, behind=0.5) == 60
    # ... and never past the cap.
    assert sizing.grown(40, rate=1000, latency=5.0, behind=0.5) == 1000
