from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import gevent
import pytest
from locust.env import Environment

from loadtests.metrics import (
    CORRECTED_US,
    LATE_SENDS,
    RAW_US,
    RETRIES,
    USED_WEIGHT_1M,
    Outcome,
    SeriesKey,
    Tally,
)
from loadtests.profiles import RequestClass
from loadtests.staleness import JOURNAL_LAG_EVENTS, JOURNAL_SEQ_HEADER, READ_SEQ_HEADER
from loadtests.users.client import Call, Reply
from loadtests.users.context import LoadContext, attach, detach
from loadtests.users.retry import RetryMode
from loadtests.users.traders import TraderUser
from loadtests.users.watchers import WatcherUser
from tests.loadtests.fakes import FakeClock, btc_connection, two_phase_plan

ORIGIN = 1000.0
OK = Reply(200, Outcome.SUCCESS, b'{"symbol":"BTCUSDT","side":"BUY","executedQty":"0.002",'
           b'"status":"FILLED","orderId":1}', {"X-MBX-USED-WEIGHT-1M": "17"})  # fmt: skip
DOWN = Reply(503, Outcome.UNAVAILABLE_503, b"{}", {}, -1000, "Service Unavailable.")


class ScriptedExchange:
    """Answers with the next scripted reply after `latency` seconds of the fake clock."""

    def __init__(self, clock: FakeClock, replies: list[Reply], latency: float) -> None:
        self.clock = clock
        self.replies = replies
        self.latency = latency
        self.sent: list[Call] = []

    def send(self, call: Call) -> Reply:
        self.sent.append(call)
        self.clock.now += self.latency
        reply = self.replies.pop(0)
        if reply.status == -1:
            gevent.sleep(10)
        return reply


@pytest.fixture
def environment() -> Iterator[Environment]:
    environment = Environment(user_classes=[TraderUser], host="http://127.0.0.1:9")
    yield environment
    detach(environment)


def _user(
    environment: Environment, user_class: type[Any], replies: list[Reply], **options: Any
) -> tuple[Any, LoadContext, FakeClock, ScriptedExchange]:
    clock = FakeClock(ORIGIN)
    context = LoadContext(two_phase_plan(origin=ORIGIN, **options), btc_connection(), clock=clock)
    attach(environment, context)
    # Locust sets a user class's host when a run starts; these users never join one.
    user = type(user_class.__name__, (user_class,), {"host": environment.host})(environment)
    user.on_start()
    exchange = ScriptedExchange(clock, replies, latency=0.02)
    user.exchange = exchange
    return user, context, clock, exchange


def _tally(context: LoadContext, series: str = "orders") -> Tally:
    return context.metrics.tally(SeriesKey(0, "calm", series))


def test_latency_is_measured_from_the_intended_time_and_from_the_send(
    environment: Environment,
) -> None:
    user, context, clock, _ = _user(environment, TraderUser, [OK])
    clock.now = ORIGIN + 0.5
    user.perform(user.next_call(), intended=ORIGIN + 0.2)
    tally = _tally(context)
    assert tally.counts == {Outcome.SUCCESS: 1, LATE_SENDS: 1}
    corrected, raw = tally.percentiles(CORRECTED_US), tally.percentiles(RAW_US)
    assert corrected is not None and raw is not None
    assert corrected.max == pytest.approx(320_000, rel=0.01)
    assert raw.max == pytest.approx(20_000, rel=0.01)
    assert tally.peaks == {USED_WEIGHT_1M: 17}
    assert context.feedback()[RequestClass.ORDERS].in_flight == 0


def test_retries_count_once_with_the_final_outcome(environment: Environment) -> None:
    user, context, _, exchange = _user(
        environment, TraderUser, [DOWN, DOWN, OK], retry=RetryMode.IMMEDIATE
    )
    user.perform(user.next_call(), intended=ORIGIN)
    assert len(exchange.sent) == 3
    tally = _tally(context)
    assert tally.counts == {Outcome.SUCCESS: 1, RETRIES: 2}
    raw = tally.percentiles(RAW_US)
    assert raw is not None and raw.max == pytest.approx(60_000, rel=0.01)


def test_without_retries_the_first_failure_is_the_outcome(environment: Environment) -> None:
    user, context, _, exchange = _user(environment, TraderUser, [DOWN, OK])
    user.perform(user.next_call(), intended=ORIGIN)
    assert len(exchange.sent) == 1
    assert _tally(context).counts == {Outcome.UNAVAILABLE_503: 1}


def test_a_request_the_run_stops_waiting_for_is_a_client_timeout(
    environment: Environment,
) -> None:
    stuck = Reply(-1, Outcome.OTHER, b"", {})
    user, context, _, _ = _user(environment, TraderUser, [stuck])
    sender = gevent.spawn(user.perform, user.next_call(), ORIGIN)
    gevent.sleep(0.01)
    sender.kill()
    assert _tally(context).counts == {Outcome.CLIENT_TIMEOUT: 1}
    assert context.feedback()[RequestClass.ORDERS].in_flight == 0


def test_traders_learn_what_they_hold_and_what_rests(environment: Environment) -> None:
    resting = Reply(200, Outcome.SUCCESS, b'{"symbol":"BTCUSDT","side":"SELL",'
                    b'"executedQty":"0","status":"NEW","orderId":42}', {})  # fmt: skip
    user, _, _, _ = _user(environment, TraderUser, [OK, resting])
    user.perform(user._market("BTCUSDT"), intended=ORIGIN)
    user.perform(user._limit("BTCUSDT"), intended=ORIGIN)
    assert user.holdings == {"BTCUSDT": Decimal("0.002")}
    assert list(user.resting) == [("BTCUSDT", 42)]
    close = dict(user._close("BTCUSDT").params)
    assert (close["side"], close["reduceOnly"], close["quantity"]) == ("SELL", "true", "0.002")
    cancel = dict(user._cancel().params)
    assert cancel == {"symbol": "BTCUSDT", "orderId": "42"}


def test_watchers_record_the_journal_lag_their_reads_report(environment: Environment) -> None:
    lagging = Reply(200, Outcome.SUCCESS, b"[]", {READ_SEQ_HEADER: "95", JOURNAL_SEQ_HEADER: "100"})
    user, context, _, exchange = _user(environment, WatcherUser, [lagging])
    user.perform(user.next_call(), intended=ORIGIN)
    assert exchange.sent[0].name in {"positionRisk", "account", "balance"}
    lag = _tally(context, "queries").percentiles(JOURNAL_LAG_EVENTS)
    assert lag is not None and lag.max == 5
