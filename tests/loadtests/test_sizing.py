from __future__ import annotations

import pytest

from loadtests.pacing import UserSizing
from loadtests.profiles import PerClass, Phase, Profile, RequestClass, Timeline
from loadtests.sizing import (
    ClassFeedback,
    CrowdPlanner,
    ScheduleLag,
    round_up,
    schedule_lag,
    spread,
    spread_classes,
)

ORDERS, QUERIES, MARKET_DATA = RequestClass


def _timeline(orders: float, queries: float, market_data: float) -> Timeline:
    one = PerClass(orders=1, queries=1, market_data=1)
    peak = PerClass(orders=10, queries=10, market_data=10)
    return Profile(
        name="t",
        description="",
        baseline=PerClass(orders=orders, queries=queries, market_data=market_data),
        phases=(
            Phase(name="calm", duration_s=10, multipliers=one),
            Phase(name="peak", duration_s=10, multipliers=peak),
        ),
    ).timeline()


def test_spread_gives_every_worker_its_share() -> None:
    assert spread(7, 3) == [3, 2, 2]
    assert spread(2, 4) == [1, 1, 0, 0]
    assert sum(spread(1001, 7)) == 1001
    with pytest.raises(ValueError):
        spread(1, 0)


def test_each_class_is_spread_on_its_own() -> None:
    assert spread_classes({"A": 4, "B": 2, "C": 1}, ["w1", "w2"]) == {
        "w1": {"A": 2, "B": 1, "C": 1},
        "w2": {"A": 2, "B": 1, "C": 0},
    }


def test_initial_users_cover_each_class_peak_at_the_expected_latency() -> None:
    planner = CrowdPlanner(_timeline(10, 20, 0), UserSizing(expected_latency=0.1), workers=1)
    # Peak 100/s and 200/s at 0.1 s, with the default headroom of 2.
    assert planner.counts == {ORDERS: 20, QUERIES: 40, MARKET_DATA: 0}


def test_counts_are_multiples_of_the_worker_count() -> None:
    planner = CrowdPlanner(_timeline(1, 1, 1), UserSizing(expected_latency=0.05), workers=3)
    assert all(count % 3 == 0 and count >= 3 for count in planner.counts.values())


def test_users_hold_while_sends_keep_up_and_grow_when_they_fall_behind() -> None:
    planner = CrowdPlanner(_timeline(10, 10, 10), UserSizing(expected_latency=0.01), workers=2)
    start = dict(planner.counts)
    keeping_up = ClassFeedback(behind_s=0.05, latency_s=0.01)
    assert planner.update(15, {ORDERS: keeping_up}) == start
    behind = ClassFeedback(behind_s=0.5, latency_s=1.0, in_flight=start[ORDERS])
    grown = planner.update(15, {ORDERS: behind})
    # Little's law at the latency now seen: 100/s x 1 s x 2 = 200 users.
    assert grown[ORDERS] == 200
    assert grown[QUERIES] == start[QUERIES]
    assert planner.update(15, {ORDERS: keeping_up})[ORDERS] == 200


def test_growth_stays_within_the_cap_and_on_the_worker_multiple() -> None:
    sizing = UserSizing(expected_latency=0.01, max_users=25)
    planner = CrowdPlanner(_timeline(100, 1, 1), sizing, workers=4)
    behind = ClassFeedback(behind_s=5, latency_s=10, in_flight=planner.counts[ORDERS])
    assert planner.update(15, {ORDERS: behind})[ORDERS] == 24


def test_round_up() -> None:
    assert [round_up(n, 4) for n in (0, 1, 4, 5)] == [0, 4, 4, 8]


def test_merged_feedback_is_the_worst_of_all_generators() -> None:
    merged = ClassFeedback.merge(
        [
            ClassFeedback(behind_s=0.1, latency_s=0.2, in_flight=3, exhausted=True),
            ClassFeedback(behind_s=0.4, latency_s=0.1, in_flight=1, exhausted=False),
        ]
    )
    assert merged == ClassFeedback(behind_s=0.4, latency_s=0.2, in_flight=4, exhausted=False)
    assert ClassFeedback.merge([]) == ClassFeedback()


def test_a_generator_short_of_cpu_gets_no_more_users() -> None:
    """Behind schedule with most senders idle: the senders are not what is missing."""
    planner = CrowdPlanner(_timeline(10, 10, 10), UserSizing(expected_latency=0.01), workers=1)
    start = planner.counts[ORDERS]
    idle = ClassFeedback(behind_s=2.0, latency_s=0.5, in_flight=start // 2)
    assert planner.update(15, {ORDERS: idle})[ORDERS] == start


def test_schedule_lag_tells_senders_waiting_on_the_target_from_free_ones() -> None:
    # Orders: 9 of 10 senders wait on answers, 3 s behind: the venue. Queries: 2 of 10 busy,
    # 1.5 s behind: the generator itself. Market data keeps up.
    feedback = {
        ORDERS: ClassFeedback(behind_s=3.0, in_flight=9),
        QUERIES: ClassFeedback(behind_s=1.5, in_flight=2),
        MARKET_DATA: ClassFeedback(behind_s=0.0, in_flight=1),
    }
    users = {ORDERS: 10, QUERIES: 10, MARKET_DATA: 10}

    assert schedule_lag(feedback, users) == ScheduleLag(waiting_s=3.0, free_s=1.5)


def test_a_class_without_senders_is_behind_neither_way() -> None:
    feedback = {ORDERS: ClassFeedback(behind_s=5.0, in_flight=0)}

    assert schedule_lag(feedback, {ORDERS: 0}) == ScheduleLag(0.0, 0.0)
