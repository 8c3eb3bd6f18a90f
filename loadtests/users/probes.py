"""The staleness probe: read-your-writes, checked black-box on accounts only the harness trades.

Each probe (one probe account, one symbol) cycles: send the next market order of its walk
(`StalenessTracker.next_order`), learn whether it filled, then read its position (positionRisk
v2) at once and have the tracker judge the read against every fill acknowledged before it was
sent. While an order is slow to resolve, the probe also reads at its cadence (a bounded number
at a time): in a surge an order can take seconds, and a probe that only read after each one
would fall silent exactly when the read model is most likely to lag. A read showing a state the
probe never planned is checked against the venue's own record of what it closed (forceOrders)
before it counts as moved by the venue. Verdicts, stale ages and the mock's journal-lag headers
go to the `queries` series of the step the read was sent in. Against any Binance-compatible
target this needs only the public API; the journal-lag headers are the mock's white-box extra.

An order whose fate is unknown (408/-1007, a 503 that may have executed, a lost answer) is
looked up by its client order id until the venue says what became of it; the fill counts from
the moment this client learned of it. One order is in flight per probe, so the order of states
is always known. Probe traffic is not paced and not counted as load: it is the instrument.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import gevent
from gevent.pool import Group, Pool
from locust import FastHttpUser, constant, task

from loadtests.accounts import ApiAccount
from loadtests.metrics import Outcome
from loadtests.profiles import RequestClass
from loadtests.staleness import (
    ProbeOrder,
    ReadKind,
    ReadVerdict,
    StalenessTracker,
    record_journal_lag,
    record_read,
)
from loadtests.users.client import Call, ExchangeClient, Reply, Security, Sender
from loadtests.users.context import LoadContext
from loadtests.users.market import plain
from loadtests.users.paced import load_context

log = logging.getLogger(__name__)

REFUSED = frozenset(
    {
        Outcome.REJECTED,
        Outcome.EXPIRED_1021,
        Outcome.RATE_LIMITED_429,
        Outcome.BANNED_418,
        Outcome.UNAVAILABLE_503,
        Outcome.THROTTLED_1008,
    }
)
"""Outcomes after which the order certainly did not execute."""
FINAL = frozenset({"FILLED", "CANCELED", "EXPIRED", "REJECTED"})
"""Order statuses that no longer change."""
LOOKUP_INTERVAL_S = 0.25
READS_IN_FLIGHT = 8
"""Reads one probe keeps waiting on at most while its order is slow: enough to go on reading
at its cadence through seconds of latency, few enough that the instrument never adds load of
its own to a venue that is already drowning."""
FORCED_REFRESH_S = 2.0
"""The least time between two of a probe's questions about forced closes. Its address then
spends at most 600 of the venue's 2,400 weight a minute on them, beside 1,440 on its orders and
reads at four a second."""
FORCED_POLL_S = 0.05
"""How often a read waiting on another's question about forced closes looks for its answer."""


def position_of(positions: Any, symbol: str) -> Decimal:
    """The one-way position of `symbol` in a positionRisk answer (0 when it lists none)."""
    return sum(
        (Decimal(entry["positionAmt"]) for entry in positions if entry["symbol"] == symbol),
        Decimal(0),
    )


def updated_at(positions: Any, symbol: str) -> int | None:
    """When the venue last changed `symbol`'s position in a positionRisk answer (ms); None
    when the answer does not say."""
    times = [
        int(e["updateTime"]) for e in positions if e["symbol"] == symbol and e.get("updateTime")
    ]
    return max(times) if times else None


def forced_times(orders: Any) -> tuple[int, ...]:
    """The venue's times (ms) of the liquidation and auto-deleveraging orders in a forceOrders
    answer."""
    return tuple(int(order["updateTime"]) for order in orders if "updateTime" in order)


def latest_forced(times: tuple[int, ...], shown_at: int | None) -> int | None:
    """The latest forced close a read could show: none after the position it shows was last
    changed (`shown_at`), since a close the read model had not applied when it served the read
    explains nothing in it; None when there is none."""
    seen = [t for t in times if shown_at is None or t <= shown_at]
    return max(seen) if seen else None


def filled_position(order: ProbeOrder, executed: Decimal) -> Decimal:
    """The position an order left after filling `executed` of its quantity."""
    missing = order.qty - executed
    return order.position_after - (missing if order.side == "BUY" else -missing)


class Probe:
    """One probe account on one symbol."""

    def __init__(
        self,
        client: Sender,
        account: ApiAccount,
        symbol: str,
        tracker: StalenessTracker,
        load: LoadContext,
        *,
        sleep: Callable[[float], None] = gevent.sleep,
    ) -> None:
        self._client = client
        self._account = account
        self._symbol = symbol
        self._tracker = tracker
        self._load = load
        self._sleep = sleep
        self._ids = (f"stp{account.name}{symbol}{n}"[-36:] for n in itertools.count(1))
        self._held_before = Decimal(0)
        self._read = Call(
            "probe:positionRisk",
            "GET",
            "/fapi/v2/positionRisk",
            (("symbol", symbol),),
            Security.SIGNED,
        )
        self._forced = Call(
            "probe:forceOrders",
            "GET",
            "/fapi/v1/forceOrders",
            (("symbol", symbol),),
            Security.SIGNED,
        )
        self._asked_at: float | None = None
        """When the venue was last asked about forced closes (None: never)."""
        self._answered_for: float | None = None
        """When the question behind `_closes` was asked: it covers forced closes until then."""
        self._closes: tuple[int, ...] = ()
        self._asking = False
        self._order_sent: float | None = None
        """When the order in flight was sent; None while none is."""

    def run(self) -> None:
        interval = self._load.plan.options.probe_interval
        baseline = self._baseline()
        if baseline is None:
            return
        self._held_before = baseline
        self._sleep(max(0.0, self._load.plan.origin - self._load.clock()))
        watcher = gevent.spawn(self.watch)
        try:
            while self._load.running(self._load.clock()):
                if not self.trade():
                    name, symbol = self._account.name, self._symbol
                    log.warning("probe %s/%s stopped: an order's fate stayed unknown", name, symbol)
                    return
                self.read()
                self._sleep(interval)
        finally:
            watcher.kill(block=False)

    def watch(self) -> None:
        """Read at the probe's cadence for as long as its order has been out longer than one
        cadence: the reads a probe sends after each fill stop while that order waits."""
        interval = self._load.plan.options.probe_interval
        reads = Pool(READS_IN_FLIGHT)
        try:
            while self._load.running(self._load.clock()):
                sent = self._order_sent
                slow = sent is not None and self._load.clock() - sent >= interval
                if slow and not reads.full():
                    reads.spawn(self.read)
                self._sleep(interval)
        finally:
            reads.kill(block=False)

    def trade(self) -> bool:
        """Send the next order of the walk and settle it; False when its fate stays unknown
        (the walk cannot go on without knowing which state the position is in)."""
        order = self._tracker.next_order(self._account.name, self._symbol)
        client_id = next(self._ids)
        params = (
            ("symbol", self._symbol),
            ("side", order.side),
            ("type", "MARKET"),
            ("quantity", plain(order.qty)),
            ("newClientOrderId", client_id),
            ("newOrderRespType", "RESULT"),
        )
        self._order_sent = self._load.clock()
        try:
            reply = self._client.send(
                Call("probe:order", "POST", "/fapi/v1/order", params, Security.SIGNED)
            )
            if reply.outcome in REFUSED:
                self._tracker.abandoned(self._account.name, self._symbol)
                return True
            status = reply.json() if reply.ok else self._look_up(client_id)
            if status is None:
                return False
            if status["status"] not in FINAL:
                status = self._look_up(client_id)
                if status is None:
                    return False
            self._settle(order, Decimal(status["executedQty"]))
            return True
        finally:
            self._order_sent = None

    def _settle(self, order: ProbeOrder, executed: Decimal) -> None:
        account, symbol = self._account.name, self._symbol
        if executed == 0:
            self._tracker.abandoned(account, symbol)
            return
        position = None if executed == order.qty else filled_position(order, executed)
        self._tracker.filled(account, symbol, acked_at=self._load.clock(), position=position)

    def _look_up(self, client_id: str) -> dict[str, Any] | None:
        """The order's final state, asked for until the venue knows it or the run ends."""
        call = Call(
            "probe:order-status",
            "GET",
            "/fapi/v1/order",
            (("symbol", self._symbol), ("origClientOrderId", client_id)),
            Security.SIGNED,
        )
        while self._load.running(self._load.clock()):
            reply = self._client.send(call)
            if reply.ok:
                order: dict[str, Any] = reply.json()
                if order["status"] in FINAL:
                    return order
            self._sleep(LOOKUP_INTERVAL_S)
        return None

    def _baseline(self) -> Decimal | None:
        """What the account held before the probe's first order: its walk is relative to it,
        so an account traded by an earlier run needs no flattening. Read while the run is
        quiet, before the load starts."""
        while self._load.running(self._load.clock()):
            reply = self._client.send(self._read)
            if reply.ok:
                return position_of(reply.json(), self._symbol)
            if reply.outcome is Outcome.REJECTED:
                name, why = self._account.name, f"{reply.code} {reply.msg}"
                log.warning("probe account %s cannot read its positions (%s): no probe", name, why)
                return None
            self._sleep(LOOKUP_INTERVAL_S)
        return None

    def read(self) -> Reply:
        """Read the position and judge it; a read that fails gets no verdict."""
        sent = self._load.clock()
        reply = self._client.send(self._read)
        if reply.ok:
            positions = reply.json()
            held = position_of(positions, self._symbol)
            account, symbol = self._account.name, self._symbol
            closed = None
            alone = self._tracker.by_walk(
                account, symbol, sent_at=sent, position=held - self._held_before
            )
            if alone.kind is not ReadKind.FRESH:
                forced = self._venue_closed(since=self._load.clock() if _doubtful(alone) else None)
                closed = latest_forced(forced, updated_at(positions, symbol))
            # Read after asking the venue, which yields: another read may have moved the walk.
            position = held - self._held_before
            planned = self._tracker.position(account, symbol)
            verdict = self._tracker.observe(
                account, symbol, sent_at=sent, position=position, venue_closed_ms=closed
            )
            if verdict.kind is ReadKind.MOVED:
                self._held_before += position - planned  # the walk goes on from here
            tally = self._load.tally(RequestClass.QUERIES.value, sent)
            record_read(tally, verdict)
            record_journal_lag(tally, reply.headers)
        return reply

    def _venue_closed(self, since: float | None) -> tuple[int, ...]:
        """The venue's own record: when it liquidated or auto-deleveraged this probe's
        position. Asked at most every `FORCED_REFRESH_S`: at weight 20 a question, asked at
        each stale read it would take a probe's address past the venue's 2,400 a minute and
        have its measurement banned. So the last answer serves a read until a question is due
        again; a doubtful read (`since`: when it came back) waits for an answer asked after it,
        since an older one can miss the forced close that moved the position it shows. When
        the venue cannot answer, or the run ends first, the last answer stands."""
        while True:
            now = self._load.clock()
            due = -math.inf if self._asked_at is None else self._asked_at + FORCED_REFRESH_S
            if not self._asking and now >= due:
                self._asking, self._asked_at = True, now
                try:
                    reply = self._client.send(self._forced)
                finally:
                    self._asking = False
                if reply.ok:
                    self._answered_for, self._closes = now, forced_times(reply.json())
                else:
                    break
            if since is None or not self._load.running(now):
                break
            if self._answered_for is not None and self._answered_for >= since:
                break
            self._sleep(FORCED_POLL_S if self._asking else max(FORCED_POLL_S, due - now))
        return self._closes


def _doubtful(alone: ReadVerdict) -> bool:
    """Whether a read the walk alone does not show fresh must wait for the venue's word given
    after it: one that matches no state of the walk, or one seconds stale. A forced close
    takes a position to such a state (in a surge, where orders take seconds, a state seconds
    old), while a read model that merely lags shows a recent one; waiting for the rest would
    slow the probe to a read every two seconds just while the read model lags."""
    return alone.kind is ReadKind.INCONSISTENT or (alone.age or 0.0) > FORCED_REFRESH_S


class ProbeUser(FastHttpUser):
    """One per load generator, running a probe for each of its probe accounts and symbols."""

    wait_time = constant(1)

    def on_start(self) -> None:
        self.probes = Group()  # before anything that can stop the user: on_stop kills it
        load = load_context(self)
        for account in load.probes:
            client = ExchangeClient(
                self.client,
                account=account,
                client_ip=load.client_ip(load.next_number()),
                clock_offset_ms=load.clock_offset_ms,
            )
            for symbol in load.market.symbols:
                probe = Probe(client, account, symbol, load.trackers[symbol], load)
                self.probes.spawn(probe.run)

    def on_stop(self) -> None:
        self.probes.kill(block=False)

    @task
    def watch(self) -> None:
        """The probes run in their own greenlets; the user only lives as long as they should."""
