from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest
import websocket
from locust.env import Environment

from loadtests.feedwatch import FEED, FEED_EVENTS, FEED_LAG_US, LIQUIDATIONS, NEGATIVE_LAGS
from loadtests.metrics import Outcome
from loadtests.users.client import Call, Reply
from loadtests.users.context import LoadContext
from loadtests.users.feeds import (
    MARK_PRICE,
    RECONNECT_S,
    USER_DATA,
    FeedRecorder,
    FeedUser,
    StreamListener,
    TruthCounter,
    market_streams,
)
from loadtests.users.probes import ProbeUser
from tests.loadtests.fakes import FakeClock, btc_connection, two_phase_plan

RECEIVED = 1005.0
"""Five seconds into the first step of the plan."""


def _context() -> LoadContext:
    return LoadContext(two_phase_plan(origin=1000), btc_connection())


def _force_order(symbol: str, stamp_ms: int) -> dict[str, Any]:
    return {"e": "forceOrder", "E": stamp_ms, "o": {"s": symbol, "S": "SELL", "q": "0.1"}}


def test_liquidations_are_kept_per_symbol_with_their_lag() -> None:
    load = _context()
    combined = {"stream": "!forceOrder@arr", "data": _force_order("BTCUSDT", 1_004_750)}
    FeedRecorder(load).message(orjson.dumps(combined), RECEIVED)
    tally = load.tally(FEED, RECEIVED, "BTCUSDT")
    assert tally.counts == {FEED_EVENTS: 1}
    lag = tally.percentiles(FEED_LAG_US, unit=1000)
    assert lag is not None and 249 <= lag.max <= 251


def test_mark_prices_are_kept_per_symbol_and_move_the_marks() -> None:
    load = _context()
    marks = [
        {"e": "markPriceUpdate", "E": 1_004_900, "s": "BTCUSDT", "p": "99000.5"},
        {"e": "markPriceUpdate", "E": 1_004_900, "s": "ETHUSDT", "p": "4000"},
    ]
    FeedRecorder(load).message(orjson.dumps(marks), RECEIVED)
    assert load.tally(MARK_PRICE, RECEIVED, "BTCUSDT").counts == {FEED_EVENTS: 1}
    assert load.market.mark("BTCUSDT") == Decimal("99000.5")


def test_user_data_events_are_kept_together() -> None:
    load = _context()
    recorder = FeedRecorder(load)
    for kind in ("ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE"):
        recorder.message(orjson.dumps({"e": kind, "E": 1_004_990, "T": 1}), RECEIVED)
    assert load.tally(USER_DATA, RECEIVED).counts == {FEED_EVENTS: 2}


def test_answers_to_requests_and_unstamped_messages_are_not_events() -> None:
    load = _context()
    recorder = FeedRecorder(load)
    recorder.message(b'{"result": null, "id": 1}', RECEIVED)
    recorder.message(b'{"e": "forceOrder"}', RECEIVED)
    assert [tally for _, tally in load.metrics.items()] == []


def test_an_event_stamped_after_it_arrived_is_counted_as_skew() -> None:
    load = _context()
    FeedRecorder(load).message(orjson.dumps(_force_order("ETHUSDT", 1_005_200)), RECEIVED)
    assert load.tally(FEED, RECEIVED, "ETHUSDT").counts == {FEED_EVENTS: 1, NEGATIVE_LAGS: 1}


def test_the_market_stream_names_follow_binance() -> None:
    assert market_streams(["BTCUSDT", "ETHUSDT"]) == (
        "!forceOrder@arr/btcusdt@markPrice@1s/ethusdt@markPrice@1s"
    )


class FakeConnection:
    def __init__(self, script: list[Any]) -> None:
        self.script = script
        self.closed = False

    def recv(self) -> str:
        item = self.script.pop(0)
        if isinstance(item, BaseException):
            raise item
        return str(item)

    def close(self) -> None:
        self.closed = True


def test_the_listener_reconnects_after_failures_and_drops_while_the_run_lasts() -> None:
    clock = FakeClock()
    first = FakeConnection(
        ["a", websocket.WebSocketTimeoutException(), "b",
         websocket.WebSocketConnectionClosedException()]
    )  # fmt: skip
    second = FakeConnection(["c"])
    attempts: list[Any] = [ConnectionRefusedError(), ConnectionRefusedError(), first, second]
    received: list[str | bytes] = []

    def connect(url: str, timeout: float) -> FakeConnection:
        attempt = attempts.pop(0)
        if isinstance(attempt, BaseException):
            raise attempt
        result: FakeConnection = attempt
        return result

    def on_message(message: str | bytes, at: float) -> None:
        received.append(message)

    listener = StreamListener(
        "ws://target/stream",
        on_message,
        running=lambda: len(received) < 3,
        connect=connect,
        sleep=clock.sleep,
        clock=clock,
    )
    listener.run()
    assert received == ["a", "b", "c"]
    assert clock.sleeps == [RECONNECT_S[0], RECONNECT_S[0] * 2]
    assert first.closed and second.closed
    assert listener.connections == 2


class TruthClient:
    def __init__(self, answers: list[Reply]) -> None:
        self.answers = answers

    def send(self, call: Call) -> Reply:
        assert call.path == "/stampede/liquidations"
        return self.answers.pop(0)


def _truth(counts: dict[str, int]) -> Reply:
    body = {"symbols": {s: {"count": n} for s, n in counts.items()}, "total": {}}
    return Reply(200, Outcome.SUCCESS, orjson.dumps(body), {})


def test_true_liquidations_count_from_the_baseline_in_the_step_they_were_read() -> None:
    clock = FakeClock(1001.0)
    load = LoadContext(two_phase_plan(origin=1000), btc_connection(), clock=clock)
    client = TruthClient([_truth({"BTCUSDT": 4}), _truth({"BTCUSDT": 7, "ETHUSDT": 2})])
    counter = TruthCounter(client, load, sleep=clock.sleep)
    assert counter.poll()
    clock.now = 1012.0
    assert counter.poll()
    assert load.tally(FEED, 1012.0, "BTCUSDT").counts == {LIQUIDATIONS: 3}
    assert load.tally(FEED, 1012.0, "ETHUSDT").counts == {LIQUIDATIONS: 2}


def test_a_target_without_a_truth_counter_is_asked_once() -> None:
    clock = FakeClock(1001.0)
    load = LoadContext(two_phase_plan(origin=1000), btc_connection(), clock=clock)
    absent = Reply(404, Outcome.REJECTED, b'{"code":-1000,"msg":"x"}', {}, -1000, "x")
    client = TruthClient([absent])
    TruthCounter(client, load, sleep=clock.sleep).run()
    assert client.answers == [] and clock.sleeps == []


@pytest.mark.parametrize("user_class", [FeedUser, ProbeUser])
def test_a_watcher_started_outside_a_run_stops_cleanly(
    user_class: type[FeedUser] | type[ProbeUser], caplog: pytest.LogCaptureFixture
) -> None:
    """Locust calls on_stop after an on_start that stopped the user: it must find what it
    stops (a run killed mid-start logged an AttributeError from it)."""
    started = type(user_class.__name__, (user_class,), {"host": "http://127.0.0.1:9"})
    user = started(Environment(user_classes=[started]))
    user.run()  # stops itself: no run to take part in
    assert "started outside a run" in caplog.text
