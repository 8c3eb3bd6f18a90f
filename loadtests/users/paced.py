"""The open-model user: it claims the next intended send time of its request class, sleeps until
then, sends, and records what the request felt like.

A surge does not wait for the exchange, so a user never paces itself by its own answers: if
every user is still waiting when a request falls due, that request goes out late (counted as a
late send) and its latency is still measured from its intended time. The shape adds users when
that happens and its senders are all busy (`sizing.py`).

Each request is recorded once, under the step of its intended send time: its final outcome
(after any retries the `--retry` policy makes), its corrected latency (done − intended) and raw
latency (done − first send), the rate-limit usage the venue reported, and for account reads the
mock's journal-lag headers. Locust's `request` event fires for every attempt (the session does
that), so the live UI and CSVs show the familiar per-endpoint statistics too.
"""

from __future__ import annotations

import logging
import random
from typing import ClassVar

import gevent
from gevent import GreenletExit
from locust import FastHttpUser, constant, task
from locust.exception import StopUser

from loadtests.accounts import ApiAccount
from loadtests.metrics import Outcome, Tally, record_rate_limit_headers, record_request
from loadtests.profiles import RequestClass
from loadtests.staleness import record_journal_lag
from loadtests.users.client import Call, ExchangeClient, Reply
from loadtests.users.context import LoadContext, context_of
from loadtests.users.retry import RetryMode

log = logging.getLogger(__name__)

IDLE_S = 0.5
"""How long a user whose class has nothing left to send sleeps between checks."""


def load_context(user: FastHttpUser) -> LoadContext:
    """The run's context for a starting user; a user started outside a run stops at once."""
    context = context_of(user.environment)
    if context is None:
        log.warning("%s started outside a run; stopping it", type(user).__name__)
        raise StopUser()
    return context


class PacedUser(FastHttpUser):
    abstract = True
    request_class: ClassVar[RequestClass]
    signs_as_trader: ClassVar[bool] = False
    """Whether the user's calls act for an account (one of this generator's traders)."""
    reads_journal_lag: ClassVar[bool] = False
    """Whether its answers carry the mock's journal-lag headers (account reads)."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.load = load_context(self)
        number = self.load.next_number()
        self.rng = random.Random(number)
        self.address = self.load.client_ip(number)
        self.holds_requests = self.load.retry.mode is RetryMode.RETRY_AFTER
        account: ApiAccount | None = self.load.trader(number) if self.signs_as_trader else None
        self.exchange = ExchangeClient(
            self.client,
            account=account,
            client_ip=self.address,
            clock_offset_ms=self.load.clock_offset_ms,
        )

    def next_call(self) -> Call:
        """The request to send now."""
        raise NotImplementedError

    def answered(self, call: Call, reply: Reply) -> None:
        """A successful reply to `call`, for users that learn from their answers."""

    @task
    def send_on_schedule(self) -> None:
        """Claim, sleep until due, send, again: one loop for the user's whole share rather
        than one Locust task per request, so Locust's task scheduling does not add to every
        send. The loop ends with the user (killed when the run stops), or returns to Locust
        once there is nothing left to send."""
        load, klass = self.load, self.request_class
        while (intended := load.claim(klass)) is not None:
            delay = intended - load.clock()
            if delay > 0:
                gevent.sleep(delay)
            self.perform(self.next_call(), intended)
        gevent.sleep(IDLE_S)

    def perform(self, call: Call, intended: float) -> None:
        # The tally is looked up after each wait, never held across one: the master may have
        # drained the metrics meanwhile, and a record into a drained tally would be lost.
        load, klass = self.load, self.request_class
        load.started(klass)
        sent: float | None = None
        attempt = 1
        try:
            if self.holds_requests:
                self._hold()
            sent = load.clock()
            load.sent(klass, intended, sent)
            while True:
                reply = self.exchange.send(call)
                done = load.clock()
                tally = load.tally(klass.value, intended)
                record_rate_limit_headers(tally, reply.headers)
                if self.reads_journal_lag:
                    record_journal_lag(tally, reply.headers)
                if reply.ok or not self._retried(reply, attempt, done):
                    break
                attempt += 1
        except GreenletExit:
            # The run stopped this user while it waited for an answer, or to be allowed to
            # send: either way the client gave up on the request.
            done = load.clock()
            tally = load.tally(klass.value, intended)
            first = done if sent is None else sent
            self._record(tally, Outcome.CLIENT_TIMEOUT, intended, first, done, attempt)
            raise
        self._record(tally, reply.outcome, intended, sent, done, attempt)
        if reply.ok:
            self.answered(call, reply)

    def _hold(self) -> None:
        """Wait while this user's client address holds its requests (Retry-After)."""
        hold = self.load.holds.wait(self.address, self.load.clock())
        if hold > 0:
            gevent.sleep(hold)

    def _retried(self, reply: Reply, attempt: int, done: float) -> bool:
        """Wait as the retry policy says after a failed attempt; False to give up instead."""
        load = self.load
        retry_after = reply.retry_after_s
        load.holds.told(self.address, done, retry_after)
        wait = load.retry.delay(attempt, reply.outcome, retry_after, self.rng)
        if wait is None or not load.running(done + wait):
            return False
        gevent.sleep(wait)
        if self.holds_requests:
            self._hold()
        return True

    def _record(
        self,
        tally: Tally,
        outcome: Outcome,
        intended: float,
        sent: float,
        done: float,
        attempts: int,
    ) -> None:
        record_request(tally, outcome, intended=intended, sent=sent, done=done, attempts=attempts)
        origin = self.load.plan.origin
        self.load.moments.record(
            self.request_class.value, outcome, intended_s=intended - origin, done_s=done - origin
        )
        self.load.finished(self.request_class, done - sent)
