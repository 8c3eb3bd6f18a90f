"""The cascade as it unfolded: once a second, each symbol's last, mark and index price and its
liquidations, true and as the public feed showed them, appended to the run's timeline.jsonl.

One sampler per run, in the process that owns it (like the driver), so nothing is counted twice
and nothing needs merging. It reads the public endpoints every Binance-compatible target has
(`GET /fapi/v1/ticker/price`, `GET /fapi/v1/premiumIndex`), as the harness's own client
(`driver.operator_client`: an address of its own, and the mock's operator allowance, so the
load's bans do not stop it) and the mock's truth counter
(`GET /stampede/liquidations`; a target without it is asked once), and keeps a subscription of
its own to the liquidation feed (`!forceOrder@arr`), counting the events it pushes per symbol:
in a distributed run the load's feed listener lives on a worker, and a public feed shows every
subscriber the same events.

A sample is taken on each whole run second from 0 to the end of the timeline; seconds the
target took too long to answer in are skipped, not sampled late.

Beside it, on the same run seconds but each in a greenlet of its own (a target slow to answer
must not cost the load machine's samples, which matter most then), the load machine's CPU is
sampled into generator.jsonl (see `hostload.py`) and the mock exchange's own state into
exchange.jsonl (see `exchange_sampler.py`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

import gevent
import httpx
from gevent import Greenlet

from loadtests.driver import ABSENT, operator_client
from loadtests.exchange_sampler import ExchangeSampler
from loadtests.hostload import GeneratorGauge, Lag, RunnerCpu
from loadtests.options import RunPlan
from loadtests.results import (
    MarketSample,
    append_exchange,
    append_generator,
    append_timeline,
)
from loadtests.users.feeds import TRUTH, StreamListener, liquidation_counts, stream_events

log = logging.getLogger(__name__)

TICKER = "/fapi/v1/ticker/price"
PREMIUM = "/fapi/v1/premiumIndex"
LIQUIDATION_STREAM = "!forceOrder@arr"
READ_TIMEOUT_S = 2.0
"""A read slower than this leaves its field out of the sample rather than hold the next one."""


def every_run_second(
    take: Callable[[float], None],
    *,
    origin: float,
    duration: float,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = gevent.sleep,
) -> None:
    """Call `take` with the run seconds elapsed on each whole run second from 0 to `duration`;
    seconds that passed while it was busy are skipped, not taken late."""
    second = 0
    while second <= duration:
        delay = origin + second - clock()
        if delay > 0:
            sleep(delay)
        take(clock() - origin)
        second = max(second + 1, math.floor(clock() - origin) + 1)


def prices(body: object, field: str) -> dict[str, Decimal]:
    """`field` per symbol from an answer for every symbol (a list) or for one (an object).
    A price that is not positive (the mock's "0" before the first trade) is no price."""
    entries = body if isinstance(body, list) else [body]
    found = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        symbol, value = entry.get("symbol"), entry.get(field)
        if not isinstance(symbol, str) or not isinstance(value, str):
            continue
        try:
            price = Decimal(value)
        except InvalidOperation:
            continue
        if price > 0:
            found[symbol] = price
    return found


class FeedCount:
    """Liquidation events the feed pushed, per symbol, since it was opened."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def message(self, raw: str | bytes, received_at: float) -> None:
        for event in stream_events(raw):
            order = event.get("o")
            if event.get("e") == "forceOrder" and isinstance(order, dict):
                symbol = order.get("s")
                if isinstance(symbol, str):
                    self.counts[symbol] = self.counts.get(symbol, 0) + 1


class MarketSampler:
    """Samples the market on each run second until the end; `run` closes `http` when done."""

    def __init__(
        self,
        http: httpx.Client,
        symbols: Sequence[str],
        feed: FeedCount,
        write: Callable[[Sequence[MarketSample]], None],
        *,
        origin: float,
        duration: float,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = gevent.sleep,
    ) -> None:
        self._http = http
        self._symbols = tuple(symbols)
        self._feed = feed
        self._write = write
        self._origin = origin
        self._duration = duration
        self._clock = clock
        self._sleep = sleep
        self._truth_absent = False
        self._truth_base: dict[str, int] | None = None
        self._feed_base: dict[str, int] | None = None

    def run(self) -> None:
        with self._http:
            every_run_second(
                lambda at: self._write(self.sample(at)),
                origin=self._origin,
                duration=self._duration,
                clock=self._clock,
                sleep=self._sleep,
            )

    def sample(self, at: float) -> list[MarketSample]:
        """Every symbol's sample at run second `at`, read now."""
        last = prices(self._json(TICKER), "price")
        premium = self._json(PREMIUM)
        marks, indexes = prices(premium, "markPrice"), prices(premium, "indexPrice")
        truth = self._truth()
        if truth is not None and self._truth_base is None:
            self._truth_base = truth
        truth_base = self._truth_base or {}
        feed = dict(self._feed.counts)
        if self._feed_base is None:
            self._feed_base = feed
        feed_base = self._feed_base
        return [
            MarketSample(
                at=at,
                symbol=symbol,
                price=last.get(symbol),
                mark=marks.get(symbol),
                index=indexes.get(symbol),
                liquidations=None
                if truth is None
                else truth.get(symbol, 0) - truth_base.get(symbol, 0),
                feed_liquidations=feed.get(symbol, 0) - feed_base.get(symbol, 0),
            )
            for symbol in self._symbols
        ]

    def _get(self, path: str) -> httpx.Response | None:
        try:
            return self._http.get(path)
        except httpx.HTTPError:
            return None

    def _json(self, path: str) -> Any:
        """The JSON answer to a GET of `path`; None when there is none to use."""
        response = self._get(path)
        return response.json() if response is not None and response.status_code == 200 else None

    def _truth(self) -> dict[str, int] | None:
        if self._truth_absent:
            return None
        response = self._get(TRUTH)
        if response is not None and response.status_code in ABSENT:
            log.info("the target has no liquidation truth counter; the timeline shows the feed's")
            self._truth_absent = True
            return None
        if response is None or response.status_code != 200:
            return None
        return liquidation_counts(response.json())


def start_sampling(plan: RunPlan, runner_cpu: RunnerCpu, lag: Lag) -> list[Greenlet]:
    """The run's market sampler, its feed subscription, the load machine's sampler (reading
    the runners' CPU from `runner_cpu` and the schedule lag from `lag`) and the exchange's, each
    in a greenlet, until the timeline's end (or until killed with the run's other greenlets)."""
    duration = plan.timeline().duration
    feed = FeedCount()

    def running() -> bool:
        return time.time() < plan.origin + duration

    listener = StreamListener(f"{plan.ws_host}/ws/{LIQUIDATION_STREAM}", feed.message, running)
    sampler = MarketSampler(
        operator_client(plan.host, plan.options.admin_token, READ_TIMEOUT_S),
        plan.options.symbols,
        feed,
        partial(append_timeline, plan.run_dir),
        origin=plan.origin,
        duration=duration,
    )
    return [
        gevent.spawn(listener.run),
        gevent.spawn(sampler.run),
        gevent.spawn(_gauge, plan, runner_cpu, lag, duration),
        gevent.spawn(_exchange, plan, duration),
    ]


def _gauge(plan: RunPlan, runner_cpu: RunnerCpu, lag: Lag, duration: float) -> None:
    """The load machine's samples on each run second. The gauge is made here, in the greenlet
    that samples: psutil times the host's CPU from the previous call in the same thread, and
    under gevent each greenlet is a thread of its own."""
    gauge = GeneratorGauge(runner_cpu, lag)
    every_run_second(
        lambda at: append_generator(plan.run_dir, gauge.sample(at)),
        origin=plan.origin,
        duration=duration,
    )


def _exchange(plan: RunPlan, duration: float) -> None:
    """The exchange's own samples on each run second, through an operator client."""
    with operator_client(plan.host, plan.options.admin_token, READ_TIMEOUT_S) as http:
        sampler = ExchangeSampler(http, partial(append_exchange, plan.run_dir))
        every_run_second(sampler.take, origin=plan.origin, duration=duration)
