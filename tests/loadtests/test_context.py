from __future__ import annotations

import pytest

from loadtests.metrics import SeriesKey
from loadtests.profiles import RequestClass
from loadtests.users.context import LoadContext, attach, client_address, context_of, detach
from tests.loadtests.fakes import FakeClock, btc_connection, two_phase_plan

ORDERS = RequestClass.ORDERS


def test_generators_split_the_schedule_between_them() -> None:
    plan = two_phase_plan(workers=2)
    contexts = [LoadContext(plan, btc_connection(), stride=2, offset=n) for n in (0, 1)]
    times = [[] for _ in contexts]  # type: list[list[float]]
    for context, claimed in zip(contexts, times, strict=True):
        while (t := context.claim(ORDERS)) is not None:
            claimed.append(t)
    # 10/s for 10 s then 30/s for 10 s: 400 orders, half each, interleaved.
    assert [len(claimed) for claimed in times] == [200, 200]
    assert times[0][0] < times[1][0] < times[0][1]


def test_tallies_are_kept_by_the_step_of_the_time_given() -> None:
    context = LoadContext(two_phase_plan(origin=1000), btc_connection())
    context.tally("orders", 1005).count("x")
    context.tally("orders", 1015).count("x")
    context.tally("feed", 1050, "BTCUSDT").count("x")
    context.tally("orders", 990).count("x")
    keys = [key for key, _ in context.metrics.items()]
    assert keys == [
        SeriesKey(0, "calm", "orders"),
        SeriesKey(1, "surge", "feed", "BTCUSDT"),
        SeriesKey(1, "surge", "orders"),
    ]
    assert context.metrics.tally(SeriesKey(0, "calm", "orders")).counts == {"x": 2}


def test_feedback_reports_lag_flight_latency_and_exhaustion() -> None:
    clock = FakeClock(1002.0)
    context = LoadContext(two_phase_plan(origin=1000), btc_connection(), clock=clock)
    intended = context.claim(ORDERS)
    assert intended is not None
    context.started(ORDERS)
    context.sent(ORDERS, intended, 1000.2)
    feedback = context.feedback()[ORDERS]
    assert feedback.in_flight == 1 and not feedback.exhausted
    assert feedback.behind_s == pytest.approx(2.0 - 0.2, abs=1e-9)
    context.finished(ORDERS, 0.5)
    assert context.feedback()[ORDERS].latency_s == pytest.approx(0.05)
    context.stopped = True
    assert context.claim(ORDERS) is None
    assert context.feedback()[ORDERS].exhausted


def test_a_class_with_nothing_to_send_is_exhausted_from_the_start() -> None:
    plan = two_phase_plan()
    quiet = plan.profile.model_copy(
        update={"baseline": plan.profile.baseline.model_copy(update={"queries": 0})}
    )
    context = LoadContext(plan.model_copy(update={"profile": quiet}), btc_connection())
    assert context.feedback()[RequestClass.QUERIES].exhausted


def test_shipments_drain_and_the_final_one_stops_the_share() -> None:
    context = LoadContext(two_phase_plan(origin=1000), btc_connection())
    context.tally("orders", 1001).count("success")
    first = context.ship()
    assert len(first.metrics.series) == 1 and not first.final
    assert context.ship().metrics.series == []
    final = context.ship(final=True)
    assert final.final and context.shipped_final and context.stopped
    assert context.claim(ORDERS) is None


def test_client_addresses_are_spread_over_the_pool_without_overlap_between_generators() -> None:
    plan = two_phase_plan(workers=2, client_ips=4)
    contexts = [LoadContext(plan, btc_connection(), stride=2, offset=n) for n in (0, 1)]
    addresses = [[context.client_ip(n) for n in range(3)] for context in contexts]
    assert addresses == [
        ["198.18.0.0", "198.18.0.2", "198.18.0.0"],
        ["198.18.0.1", "198.18.0.3", "198.18.0.1"],
    ]
    assert LoadContext(two_phase_plan(client_ips=0), btc_connection()).client_ip(5) is None
    assert client_address(256) == "198.18.1.0"


def test_each_generator_gets_its_own_probe_accounts() -> None:
    plan = two_phase_plan(workers=2, probes=3)
    shares = [LoadContext(plan, btc_connection(), stride=2, offset=n).probes for n in (0, 1)]
    assert [len(share) for share in shares] == [2, 1]
    assert not set(shares[0]) & set(shares[1])


def test_the_context_is_found_through_its_environment() -> None:
    environment = type("Environment", (), {})()
    context = LoadContext(two_phase_plan(), btc_connection())
    attach(environment, context)
    assert context_of(environment) is context
    assert detach(environment) is context
    assert context_of(environment) is None
