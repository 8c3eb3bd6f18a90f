"""The pipeline's state, sampled from Redis into this process's metrics about once a second.

Redis holds the state every process shares: the queue in front of the engine, how far the read
model trails the journal, the liquidations' truth counter, the insurance fund, the marks and the
feed's counts. Each is reported by the process running the role that owns it, so each series
comes from one place however many processes run:

| role      | reports                                                                 |
|-----------|-------------------------------------------------------------------------|
| engine    | order queue depth                                                       |
| projector | projector lag (events, seconds); liquidations, their notional and ADL   |
|           | (the truth counter); insurance fund; mark, index and last prices        |
| feeds     | liquidation messages pushed on `!forceOrder@arr`                        |
| api       | WebSocket clients this process dropped (the relay's own tallies)        |

Counts that Redis keeps (liquidations, messages pushed) become Prometheus counters by adding
what they grew by since the last sample. The reads go through the control connection, which no
injected fault slows: the sampler reports the faults, it does not suffer them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from decimal import Decimal
from typing import Protocol, cast

from prometheus_client import Counter
from redis.asyncio import Redis

from exchange_mock.clock import Clock, wall_clock
from exchange_mock.settings import Role
from exchange_mock.store import records
from exchange_mock.store.backlog import backlog
from exchange_mock.store.keys import Keys
from exchange_mock.store.outage import every
from exchange_mock.store.readmodel import ReadModel
from exchange_mock.store.records import Fields
from exchange_mock.symbols import SymbolTable
from exchange_mock.telemetry.registry import (
    Drop,
    api_metrics,
    engine_metrics,
    feed_metrics,
    projector_metrics,
    retire,
)
from exchange_mock.types import CASH_SCALE, Cash

PUSHED_FIELD = "forceOrder:{symbol}"
"""The feed stats field (`p:feedstats`, see `store/keys.py`) counting forceOrder messages
pushed for a symbol."""


def _usdt(cash: Cash) -> float:
    return float(Decimal(cash) / CASH_SCALE)


class _Mirror:
    """Carries counts kept elsewhere into counters, which only go up: each sample adds what a
    count grew by since the one before. A count that went down was reset (a fresh Redis), and
    counts again from zero."""

    def __init__(self) -> None:
        self._seen: dict[Counter, float] = {}

    def update(self, counter: Counter, value: float) -> None:
        seen = self._seen.get(counter, 0.0)
        grown = value - seen if value >= seen else value
        if grown > 0:
            counter.inc(grown)
        self._seen[counter] = value


class RelayTallies(Protocol):
    """What the sampler reads of this process's WebSocket relay: the clients it dropped, as
    running totals (the relay is passed in; telemetry does not import the feeds)."""

    dropped: int
    """Clients dropped as slow consumers."""
    interruptions: int
    """Times the relay lost its subscription and closed its clients."""


class PipelineSampler:
    """Samples the state `roles` own every `interval_ms` (see the module's docstring)."""

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        symbols: SymbolTable,
        roles: frozenset[Role],
        relay: RelayTallies | None,
        interval_ms: int,
        clock: Clock = wall_clock,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._symbols = symbols
        self._roles = roles
        self._relay = relay
        self._interval_s = interval_ms / 1000
        self._clock = clock
        self._reads = ReadModel(redis, keys)
        self._mirror = _Mirror()
        for spec in symbols.symbols:
            if Role.PROJECTOR in roles:
                projector = projector_metrics()
                projector.liquidations.labels(spec.symbol)
                projector.liquidated_notional.labels(spec.symbol)
                projector.adl.labels(spec.symbol)
            if Role.FEEDS in roles:
                feed_metrics().liquidation_messages.labels(spec.symbol)

    async def run(self, stop: asyncio.Event) -> None:
        """Sample until `stop` is set; Redis being unreachable only skips a sample."""
        try:
            await every("metrics", self._interval_s, self.sample, stop)
        finally:
            retire()

    async def sample(self) -> None:
        """Read the state this process's roles own into its metrics, once."""
        roles = self._roles
        if Role.ENGINE in roles or Role.PROJECTOR in roles:
            behind = await backlog(self._redis, self._keys, self._clock())
            if Role.ENGINE in roles:
                engine_metrics().order_queue_depth.set(behind.orders_queued)
            if Role.PROJECTOR in roles:
                projector_metrics().lag_events.set(behind.projector_lag_events)
                projector_metrics().lag.set(behind.projector_lag_ms / 1000)
        if Role.PROJECTOR in roles:
            await self._sample_read_model()
        if Role.FEEDS in roles:
            await self._sample_feed()
        if self._relay is not None:
            drops = api_metrics().ws_drops
            self._mirror.update(drops.labels(Drop.SLOW_CONSUMER.value), self._relay.dropped)
            self._mirror.update(
                drops.labels(Drop.FEED_INTERRUPTED.value), self._relay.interruptions
            )

    async def _sample_read_model(self) -> None:
        metrics, mirror = projector_metrics(), self._mirror
        truth, fund, _ = await self._reads.liquidations()
        metrics.insurance_fund.set(_usdt(fund))
        for symbol, view in truth.items():
            mirror.update(metrics.liquidations.labels(symbol), view.count)
            mirror.update(metrics.liquidated_notional.labels(symbol), _usdt(view.notional))
            mirror.update(metrics.adl.labels(symbol), view.adl_count)
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(self._keys.marks)
        for spec in self._symbols.symbols:
            pipe.hgetall(self._keys.ticker(spec.symbol))
        marks, *tickers = await pipe.execute()
        for spec, fields in zip(self._symbols.symbols, tickers, strict=True):
            mark = records.load_mark_view(spec.symbol, marks.get(spec.symbol.encode()))
            if mark.price is not None:
                metrics.mark_price.labels(spec.symbol).set(float(spec.price(mark.price)))
            if mark.index is not None:
                metrics.index_price.labels(spec.symbol).set(float(spec.price(mark.index)))
            last = records.load_ticker(spec.symbol, fields).last_price
            if last is not None:
                metrics.last_price.labels(spec.symbol).set(float(spec.price(last)))

    async def _sample_feed(self) -> None:
        stats = await cast(Awaitable[Fields], self._redis.hgetall(self._keys.feed_stats))
        for spec in self._symbols.symbols:
            pushed = int(stats.get(PUSHED_FIELD.format(symbol=spec.symbol).encode(), 0))
            self._mirror.update(feed_metrics().liquidation_messages.labels(spec.symbol), pushed)
