"""The feed publisher's loop and its only I/O: follow the journal, run each event through the
translator, and publish what comes out on the feed channels, one pipeline per round.

The feed is live, not a replay: it starts at the journal's head, as a real venue's streams start
at the moment a client connects. Its lag is the real one: a publisher that falls behind the
journal publishes late, and clients see it as `E` times further in the past. The
`feed_delay_ms` fault holds each round's messages that long before they are published, as a slow
feed service would, and the journal backs up behind it as behind any slow loop. One publisher
runs per exchange (the `feeds` role); a second would publish every message twice. After a lost
connection it resumes where it stopped, unless the journal now ends before that (a Redis restarted
from an append-only file that missed its last second).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Sequence
from typing import cast

from redis.asyncio import Redis

from exchange_mock.clock import Clock, wall_clock
from exchange_mock.domain import codec
from exchange_mock.faults.kinds import NO_FAULTS, FaultKind, FaultReader
from exchange_mock.feeds.depth import Message
from exchange_mock.feeds.marks import Mark
from exchange_mock.feeds.translator import FeedTranslator
from exchange_mock.settings import FUNDING_INTERVAL_MS
from exchange_mock.store import records
from exchange_mock.store.keys import Keys
from exchange_mock.store.readmodel import ReadModel
from exchange_mock.store.records import Fields
from exchange_mock.store.streams import IDLE_BLOCK_MS, entry_seq, journal_id, read_after
from exchange_mock.symbols import SymbolTable

HOLD_SLICE_S = 0.01
"""How often a held round looks at `feed_delay_ms` again."""


class FeedPublisher:
    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        symbols: SymbolTable,
        batch: int,
        force_order_interval_ms: int,
        faults: FaultReader = NO_FAULTS,
        clock: Clock = wall_clock,
        *,
        funding_interval_ms: int = FUNDING_INTERVAL_MS,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._batch = batch
        self._faults = faults
        self._clock = clock
        self._symbols = symbols
        self.translator = FeedTranslator(
            keys, symbols, force_order_interval_ms, funding_interval_ms
        )
        self.seq = 0
        self._recorded_seq = -1
        self._reported: dict[str, Counter[str]] = {
            "liquidations": Counter(),
            "forceOrder": Counter(),
        }
        """The throttle's counts already added to the stats hash."""

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the journal from its head (or where it stopped) until `stop` is set."""
        head = int(await self._redis.get(self._keys.journal_head) or 0)
        self.seq = min(self.seq, head) if self.seq else head
        await self._load_read_model()
        while not stop.is_set():
            now = self._clock()
            wait_ms = max(1, min(IDLE_BLOCK_MS, self.translator.next_due(now) - now))
            entries = await read_after(
                self._redis, self._keys.journal, journal_id(self.seq), self._batch, wait_ms
            )
            messages: list[Message] = []
            for entry_id, fields in entries:
                self.seq = entry_seq(entry_id)
                event = codec.decode_event(fields[b"m"])
                messages += self.translator.apply(fields.get(b"c", b""), event)
            if len(entries) < self._batch:
                messages += self.translator.end_group()
            messages += self.translator.due(self._clock())
            if messages:
                await self._hold(stop)
            await self._publish(messages)

    async def _hold(self, stop: asyncio.Event) -> None:
        """Wait out `feed_delay_ms`, looking at the fault again every slice, so clearing it (or
        stopping) takes effect at once even in the middle of a long delay."""
        started = time.monotonic()
        while not stop.is_set():
            left_s = self._faults.value(FaultKind.FEED_DELAY_MS) / 1_000 - (
                time.monotonic() - started
            )
            if left_s <= 0:
                return
            await asyncio.sleep(min(HOLD_SLICE_S, left_s))

    async def _load_read_model(self) -> None:
        """Start from the read model's marks, so the mark streams beat before the next change,
        and, the first time, from its tickers and bars, so the streamed figures carry on from
        REST's (to within the trades the projector had still to apply; after a lost connection
        the feed's own figures are the newer)."""
        marks = await cast(Awaitable[Fields], self._redis.hgetall(self._keys.marks))
        for symbol, raw in marks.items():
            view = records.load_mark_view(symbol.decode(), raw)
            if view.price is not None:
                mark = Mark(view.price, view.time, view.index, view.funding_rate)
                self.translator.marks.update(view.symbol, mark)
        trades = self.translator.trades
        if not trades.tickers:
            reads, names = ReadModel(self._redis, self._keys), self._symbols.by_name
            trades.load(await reads.tickers(names), await reads.bars_now(names))

    async def _publish(self, messages: Sequence[Message]) -> None:
        """Publish, count, and record how far the journal was read (the journal is trimmed
        only below it)."""
        counts = self._unreported()
        moved = self.seq != self._recorded_seq
        if not messages and not counts and not moved:
            return
        pipe = self._redis.pipeline(transaction=False)
        for channel, body in messages:
            pipe.publish(channel, body)
        for field, count in counts.items():
            pipe.hincrby(self._keys.feed_stats, field, count)
        if moved:
            pipe.set(self._keys.feeds_seq, self.seq)
        await pipe.execute()
        self._recorded_seq = self.seq

    def _unreported(self) -> dict[str, int]:
        """The throttle's counts not yet added to the stats hash, by field; marks them added."""
        throttle = self.translator.throttle
        fresh: dict[str, int] = {}
        for name, counter in (("liquidations", throttle.truth), ("forceOrder", throttle.pushed)):
            delta = counter - self._reported[name]
            fresh.update({f"{name}:{symbol}": count for symbol, count in delta.items()})
            self._reported[name] += delta
        return fresh
