from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import gevent
import orjson
import pytest

from loadtests.accounts import ApiAccount
from loadtests.metrics import Outcome
from loadtests.staleness import (
    INCONSISTENT_READS,
    JOURNAL_LAG_EVENTS,
    JOURNAL_SEQ_HEADER,
    MOVED_READS,
    READ_SEQ_HEADER,
    READS,
    STALE_READS,
    ProbeOrder,
    StalenessTracker,
)
from loadtests.users.client import Call, Reply
from loadtests.users.context import LoadContext
from loadtests.users.probes import Probe, filled_position, position_of
from tests.loadtests.fakes import FakeClock, btc_connection, two_phase_plan

ACCOUNT = ApiAccount(name="39", api_key="k", secret="s")
UNIT = Decimal("0.002")
HELD = Decimal("0.010")
"""What the probe account held before the run: an earlier run's walk."""


def _reply(body: Any, status: int = 200, outcome: Outcome = Outcome.SUCCESS) -> Reply:
    headers = {READ_SEQ_HEADER: "90", JOURNAL_SEQ_HEADER: "100"}
    return Reply(status, outcome, orjson.dumps(body), headers)


def _positions(amount: Decimal, updated_ms: int = 0) -> Reply:
    entry = {"symbol": "BTCUSDT", "positionAmt": str(amount), "positionSide": "BOTH"}
    return _reply([{**entry, "updateTime": updated_ms} if updated_ms else entry])


def _order(status: str, executed: Decimal, updated_ms: int = 0) -> Reply:
    body: dict[str, Any] = {"status": status, "executedQty": str(executed)}
    return _reply({**body, "updateTime": updated_ms} if updated_ms else body)


class TickingClock(FakeClock):
    """Time moves a millisecond whenever it is read, as it does between any two steps."""

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


class ScriptedClient:
    """Answers each call with the next reply its script has for the call's name."""

    def __init__(self, clock: FakeClock, script: dict[str, list[Reply]]) -> None:
        self.clock = clock
        self.script = script
        self.calls: list[Call] = []
        self.times: list[float] = []

    def send(self, call: Call) -> Reply:
        self.calls.append(call)
        self.times.append(self.clock.now)
        self.clock.now += 0.01
        return self.script[call.name].pop(0)


def _probe(script: dict[str, list[Reply]]) -> tuple[Probe, ScriptedClient, LoadContext]:
    """A probe whose run makes one order-then-read cycle: the pause after it ends the run."""
    clock = TickingClock(1001.0)
    plan = two_phase_plan(origin=1000, probe_interval=0.5)
    load = LoadContext(plan, btc_connection(), clock=clock)
    interval = load.plan.options.probe_interval

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if seconds == interval:
            load.stopped = True

    client = ScriptedClient(clock, script)
    tracker = StalenessTracker(UNIT)
    probe = Probe(client, ACCOUNT, "BTCUSDT", tracker, load, sleep=sleep)
    return probe, client, load


def _queries(load: LoadContext) -> dict[str, int]:
    return load.tally("queries", load.clock()).counts


def _cycle(probe: Probe) -> None:
    assert probe.trade()
    probe.read()


def test_a_read_that_shows_the_acknowledged_fill_is_fresh() -> None:
    probe, client, load = _probe(
        {
            "probe:positionRisk": [_positions(HELD), _positions(HELD + UNIT)],
            "probe:order": [_order("FILLED", UNIT)],
        }
    )
    probe.run()
    assert _queries(load) == {READS: 1}
    order = client.calls[1]
    assert dict(order.params)["side"] == "BUY" and dict(order.params)["quantity"] == "0.002"
    assert load.tally("queries", load.clock()).total(JOURNAL_LAG_EVENTS) == 1


def test_a_read_that_misses_an_acknowledged_fill_is_stale_by_its_age() -> None:
    probe, _, load = _probe(
        {
            "probe:positionRisk": [_positions(HELD), _positions(HELD)],
            "probe:order": [_order("FILLED", UNIT)],
            "probe:forceOrders": [_reply([])],  # the venue closed nothing: the read is stale
        }
    )
    probe.run()
    tally = load.tally("queries", load.clock())
    assert tally.counts == {READS: 1, STALE_READS: 1}
    age = tally.percentiles("stale_age_us")
    assert age is not None and age.max < 100_000


def test_a_position_the_venue_deleveraged_is_not_judged_and_the_walk_goes_on_from_it() -> None:
    probe, client, load = _probe(
        {
            "probe:positionRisk": [
                _positions(UNIT, updated_ms=5_000),
                _positions(UNIT / 2, updated_ms=6_000),  # auto-deleveraged by half
                _positions(UNIT / 2 + UNIT, updated_ms=7_000),
            ],
            "probe:order": [_order("FILLED", UNIT, 5_000), _order("FILLED", UNIT, 7_000)],
            # The venue's own record of the auto-deleveraging.
            "probe:forceOrders": [
                _reply([{"clientOrderId": "adl_autoclose", "updateTime": 6_000}])
            ],
        }
    )
    _cycle(probe)  # fills to one unit, reads it
    probe.read()  # the venue took half of it since
    _cycle(probe)  # fills one more unit: the position is the venue's half plus it
    assert _queries(load) == {READS: 2, MOVED_READS: 1}, "both fills read fresh"
    assert [c.name for c in client.calls].count("probe:forceOrders") == 1, "asked only once"


def test_a_forced_close_back_to_an_earlier_state_is_moved_not_stale() -> None:
    """Auto-deleveraging takes one unit off two, leaving the position where the walk was a
    fill ago: with the venue's record of it, the read is the venue's move, not a read model
    missing the second fill."""
    probe, _, load = _probe(
        {
            "probe:positionRisk": [
                _positions(UNIT, updated_ms=5_000),
                _positions(2 * UNIT, updated_ms=6_000),
                _positions(UNIT, updated_ms=7_000),  # one unit auto-deleveraged
            ],
            "probe:order": [_order("FILLED", UNIT, 5_000), _order("FILLED", UNIT, 6_000)],
            "probe:forceOrders": [
                _reply([{"clientOrderId": "adl_autoclose", "updateTime": 7_000}])
            ],
        }
    )
    _cycle(probe)
    _cycle(probe)
    probe.read()
    assert _queries(load) == {READS: 2, MOVED_READS: 1}


def test_a_read_that_applied_a_later_fill_but_missed_an_earlier_one_is_inconsistent() -> None:
    """A read model that applied fills out of order shows a state the walk never had, last
    updated after the probe's fill. The venue reports no forced order: it did not move the
    position, so the read is inconsistent, not moved."""
    probe, _, load = _probe(
        {
            "probe:positionRisk": [
                _positions(HELD),
                _positions(HELD + UNIT, updated_ms=5_000),
                _positions(HELD + 3 * UNIT, updated_ms=9_000),  # a state the walk never had
            ],
            "probe:order": [_order("FILLED", UNIT, 5_000), _order("FILLED", UNIT, 9_000)],
            "probe:forceOrders": [_reply([])],
        }
    )
    probe.run()
    _cycle(probe)
    assert _queries(load) == {READS: 2, INCONSISTENT_READS: 1}


def test_an_order_of_unknown_fate_is_looked_up_until_the_venue_knows() -> None:
    timeout = Reply(408, Outcome.TIMEOUT_408, b'{"code":-1007}', {}, -1007, "Timeout")
    unknown = Reply(400, Outcome.REJECTED, b'{"code":-2013}', {}, -2013, "Order does not exist.")
    probe, client, load = _probe(
        {
            "probe:order": [timeout],
            "probe:order-status": [unknown, _order("NEW", Decimal(0)), _order("FILLED", UNIT)],
            "probe:positionRisk": [_positions(UNIT)],
        }
    )
    _cycle(probe)
    assert [call.name for call in client.calls].count("probe:order-status") == 3
    assert _queries(load) == {READS: 1}
    assert dict(client.calls[1].params)["origClientOrderId"].startswith("stp39BTCUSDT")


@pytest.mark.parametrize(
    "refused",
    [
        Reply(429, Outcome.RATE_LIMITED_429, b"{}", {"Retry-After": "1"}),
        Reply(400, Outcome.EXPIRED_1021, b'{"code":-1021}', {}, -1021, "outside recvWindow"),
    ],
    ids=["429", "-1021"],
)
def test_a_refused_order_is_abandoned_and_the_walk_sends_it_again(refused: Reply) -> None:
    probe, client, _ = _probe(
        {
            "probe:order": [refused, _order("FILLED", UNIT)],
            "probe:positionRisk": [_positions(Decimal(0)), _positions(UNIT)],
        }
    )
    _cycle(probe)
    _cycle(probe)
    orders = [dict(call.params) for call in client.calls if call.name == "probe:order"]
    assert orders[0]["quantity"] == orders[1]["quantity"] == "0.002"


def test_a_partial_fill_moves_the_walk_by_what_filled() -> None:
    probe, _, load = _probe(
        {
            "probe:order": [_order("EXPIRED", Decimal("0.001"))],
            "probe:positionRisk": [_positions(Decimal("0.001"))],
        }
    )
    _cycle(probe)
    assert _queries(load) == {READS: 1}


def test_the_probe_gives_up_when_the_run_ends_before_the_fate_is_known() -> None:
    timeout = Reply(0, Outcome.CLIENT_TIMEOUT, b"", {})
    probe, _, load = _probe({"probe:order": [timeout], "probe:order-status": []})
    load.stopped = True
    assert not probe.trade()


def test_positions_and_partial_fills() -> None:
    answer = [
        {"symbol": "ETHUSDT", "positionAmt": "1"},
        {"symbol": "BTCUSDT", "positionAmt": "-0.004"},
    ]
    assert position_of(answer, "BTCUSDT") == Decimal("-0.004")
    assert position_of([], "BTCUSDT") == 0
    sell = ProbeOrder("SELL", Decimal("0.008"), Decimal("-0.002"))
    assert filled_position(sell, Decimal("0.003")) == Decimal("0.003")
    buy = ProbeOrder("BUY", Decimal("0.002"), Decimal("0.004"))
    assert filled_position(buy, Decimal("0.002")) == Decimal("0.004")


def test_a_probe_account_the_target_does_not_know_is_not_probed() -> None:
    unknown = Reply(401, Outcome.REJECTED, b"{}", {}, -2015, "Invalid API-key, IP, or permissions")
    probe, client, load = _probe({"probe:positionRisk": [unknown]})
    probe.run()
    assert [call.name for call in client.calls] == ["probe:positionRisk"]
    assert _queries(load) == {}


def test_the_venue_is_asked_about_forced_closes_at_most_every_two_seconds() -> None:
    """Three stale reads in a row cost one forceOrders question (weight 20), not three: asked
    at every stale read, a probe's address went past the venue's weight limit and was banned."""
    probe, client, load = _probe(
        {
            "probe:positionRisk": [_positions(HELD), *[_positions(HELD)] * 3],
            "probe:order": [_order("FILLED", UNIT)] * 3,
            "probe:forceOrders": [_reply([])],
        }
    )
    probe._held_before = HELD
    for _ in range(3):
        _cycle(probe)
    assert [c.name for c in client.calls].count("probe:forceOrders") == 1
    assert _queries(load) == {READS: 3, STALE_READS: 3}


def test_a_read_seconds_stale_waits_for_the_venue_s_word_given_after_it() -> None:
    """The venue deleverages both units a moment after it last said it had closed nothing.
    The read showing none is seconds stale by the walk: judged on that earlier answer, the
    venue's move passed for a read model 10.5 s behind (seen in a demo's peak minute, where
    orders took seconds); it waits for the next question, two seconds after the last."""
    probe, client, load = _probe(
        {
            "probe:positionRisk": [_positions(HELD + UNIT), _positions(HELD)],
            "probe:order": [_order("FILLED", UNIT)] * 2,
            "probe:forceOrders": [
                _reply([]),
                _reply([{"clientOrderId": "adl_autoclose", "updateTime": 9_000}]),
            ],
        }
    )
    probe._held_before = HELD
    assert probe.trade()
    client.clock.now += 3.0
    assert probe.trade()
    probe.read()  # misses the second fill by milliseconds: the last answer serves
    probe.read()  # none at all: "stale" since the first fill, 3 s ago
    asked = [
        at
        for call, at in zip(client.calls, client.times, strict=True)
        if call.name == "probe:forceOrders"
    ]
    assert len(asked) == 2 and asked[1] - asked[0] >= 2.0
    assert _queries(load) == {READS: 1, STALE_READS: 1, MOVED_READS: 1}


def test_a_forced_close_after_the_state_a_read_shows_does_not_explain_it() -> None:
    """The venue deleverages both of a probe's units after a stale read was served, and says
    so before that read is judged. The read shows the position as last changed before the
    close, so the close explains nothing in it: it is stale. Taken for the venue's move, it
    set the walk off by a unit, and every later read was judged against the wrong position
    (a demo's aftershock: 25 inconsistent reads and reads "stale" by 104 s while the read
    model kept up)."""
    adl = _reply([{"clientOrderId": "adl_autoclose", "updateTime": 8_000}])
    probe, _, load = _probe(
        {
            "probe:positionRisk": [
                _positions(HELD + UNIT, updated_ms=5_000),
                _positions(HELD + UNIT, updated_ms=5_000),  # misses the second fill
                _positions(HELD, updated_ms=8_000),  # both units deleveraged
                _positions(HELD + UNIT, updated_ms=9_000),  # and a third fill
            ],
            "probe:order": [_order("FILLED", UNIT)] * 3,
            "probe:forceOrders": [adl],
        }
    )
    probe._held_before = HELD
    _cycle(probe)
    assert probe.trade()
    probe.read()
    probe.read()
    _cycle(probe)
    assert _queries(load) == {READS: 3, STALE_READS: 1, MOVED_READS: 1}


class SlowVenue:
    """Answers an order after `order_s` and a position read at once, showing every fill
    acknowledged so far (a read model that keeps up), in real time under gevent."""

    def __init__(self, order_s: float) -> None:
        self.order_s = order_s
        self.position = HELD
        self.calls: list[str] = []

    def send(self, call: Call) -> Reply:
        self.calls.append(call.name)
        if call.name == "probe:order":
            gevent.sleep(self.order_s)
            params = dict(call.params)
            qty = Decimal(params["quantity"])
            self.position += qty if params["side"] == "BUY" else -qty
            return _order("FILLED", qty)
        gevent.sleep(0.001)
        return _positions(self.position)


def test_a_probe_goes_on_reading_at_its_cadence_while_its_order_is_slow() -> None:
    """In a surge an order can take seconds; reading only after each fill, a probe fell
    silent for all of them (a dozen reads in a whole peak minute on two cores)."""
    interval, order_s, run_s = 0.02, 0.3, 0.5
    plan = two_phase_plan(origin=time.time(), probe_interval=interval)
    load = LoadContext(plan, btc_connection())
    venue = SlowVenue(order_s)
    probe = Probe(venue, ACCOUNT, "BTCUSDT", StalenessTracker(UNIT), load)
    running = gevent.spawn(probe.run)
    gevent.sleep(run_s)
    load.stopped = True
    running.join(timeout=2 * order_s)
    assert running.dead
    orders = venue.calls.count("probe:order")
    assert orders == 2  # the second was still out when the run ended
    # After each order's first cadence, a read each cadence: about 25, where the reads after
    # fills alone made one.
    tally = load.tally("queries", load.clock())
    assert tally.counts.get(READS, 0) >= 0.5 * run_s / interval
    assert tally.counts.get(STALE_READS, 0) == tally.counts.get(INCONSISTENT_READS, 0) == 0
