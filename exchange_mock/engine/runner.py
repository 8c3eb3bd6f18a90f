"""The engine's loop and its only I/O: read commands from the orders stream, apply them to the
pure `Engine`, and journal the resulting events with the cursor in one MULTI before any reply
goes out — so every acknowledged order is in the journal, and a restart (replaying the journal)
neither loses nor repeats one. After a lost connection it recovers the same way, from a fresh
engine: a batch it applied in memory may never have reached the journal.

Every `snapshot_interval_ms` it saves its state (`store/snapshots.py`), so a restart replays
only the journal after the latest snapshot, and the journal below every reader is trimmed. The
state is the engine's own objects, pickled: read back only by the version of the exchange that
wrote it, from the exchange's own store, trusted as its journal is.

Commands are taken in batches: under a surge, one Redis round trip carries many commands, and
the queue in front of the engine is where order timeouts begin. The `engine_paused` and
`engine_delay_ms` faults stop or slow this loop, never the engine itself, which stays pure.
"""

from __future__ import annotations

import asyncio
import pickle
import time
from collections import defaultdict
from collections.abc import Callable, Sequence

from redis.asyncio import Redis

from exchange_mock.clock import Clock, wall_clock
from exchange_mock.domain import codec
from exchange_mock.domain.commands import Command
from exchange_mock.domain.events import Event
from exchange_mock.domain.replies import Rejected, Reply
from exchange_mock.engine.core import Engine
from exchange_mock.errors import Code
from exchange_mock.faults.kinds import NO_FAULTS, FaultKind, FaultReader
from exchange_mock.faults.pacing import LoopFaults
from exchange_mock.store import records, streams
from exchange_mock.store.bus import encode_replies, reply_address
from exchange_mock.store.journal import read_journal
from exchange_mock.store.keys import Keys
from exchange_mock.store.snapshots import Snapshot, load_snapshot, save_snapshot
from exchange_mock.telemetry.hooks import engine_applied

DEPTH_INTERVAL_S = 0.05
"""Book snapshots are published at most this often per symbol, and whenever the engine idles."""
GENESIS = b"genesis"
"""The command id journaled with the events of the genesis commands (funding, first marks)."""
BOOKS = b"books"
"""The command id journaled with a batch's `BookChanged` events, which no one command caused."""

Envelope = tuple[bytes, Command | None, tuple[str, str] | None]
"""A command as taken from the stream: its id, the command (None if malformed), reply address."""


def _unpack(entry: streams.Entry) -> Envelope:
    entry_id, fields = entry
    reply_to = reply_address(fields[b"r"].decode()) if b"r" in fields else None
    try:
        return entry_id, codec.decode_command(fields[b"m"]), reply_to
    except (KeyError, ValueError, TypeError):
        return entry_id, None, reply_to


def _next_id(entry_id: str) -> str:
    """The smallest stream entry id greater than `entry_id`."""
    ms, _, seq = entry_id.partition("-")
    return f"{ms}-{int(seq) + 1}"


class EngineRunner:
    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        new_engine: Callable[[], Engine],
        symbols: Sequence[str],
        batch: int,
        depth_levels: int,
        genesis: Sequence[Command],
        faults: FaultReader = NO_FAULTS,
        clock: Clock = wall_clock,
        snapshot_interval_ms: int = 0,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._new_engine = new_engine
        self._engine = new_engine()
        self._symbols = symbols
        self._batch = batch
        self._depth_levels = depth_levels
        self._genesis = genesis
        self._faults = LoopFaults(faults, FaultKind.ENGINE_PAUSED, FaultKind.ENGINE_DELAY_MS)
        self._clock = clock
        self.seq = 0
        self.cursor = "0-0"
        self._dirty: set[str] = set()
        self._depth_published = 0.0
        self._snapshot_interval_s = snapshot_interval_ms / 1000
        """0 takes none."""
        self._snapshot_taken = time.monotonic()

    async def recover(self) -> None:
        """Rebuild the engine from the journal; on an empty journal, apply the genesis commands."""
        self._engine, self.seq = self._new_engine(), 0
        snapshot = await load_snapshot(self._redis, self._keys)
        if snapshot is not None:
            self._engine = pickle.loads(snapshot.state)
            self.seq = snapshot.seq
        async for seq, event in read_journal(self._redis, self._keys, self.seq):
            self._engine.replay(event)
            self.seq = seq
        cursor = await self._redis.get(self._keys.engine_cursor)
        self.cursor = cursor.decode() if isinstance(cursor, bytes) else (cursor or "0-0")
        if self.seq == 0:
            await self._apply([(GENESIS, command, None) for command in self._genesis], None)
        self._dirty.update(self._symbols)
        await self._publish_depth()

    async def run(self, stop: asyncio.Event) -> None:
        """Recover, then follow the orders stream until `stop` is set."""
        await self.recover()
        while not stop.is_set():
            entries = await streams.read_after(
                self._redis,
                self._keys.orders,
                self.cursor,
                self._batch,
                int(DEPTH_INTERVAL_S * 1000) if self._dirty else streams.IDLE_BLOCK_MS,
            )
            if entries:
                if not await self._faults.ready(stop, len(entries)):
                    break
                await self._apply([_unpack(entry) for entry in entries], entries[-1][0])
            if self._dirty and (
                not entries or time.monotonic() - self._depth_published > DEPTH_INTERVAL_S
            ):
                await self._publish_depth()
            if (
                self._snapshot_interval_s
                and time.monotonic() - self._snapshot_taken >= self._snapshot_interval_s
            ):
                await self.snapshot()

    async def snapshot(self) -> None:
        """Save the engine's state as of the journal's head, and trim what no reader needs."""
        state = pickle.dumps(self._engine, protocol=pickle.HIGHEST_PROTOCOL)
        await save_snapshot(self._redis, self._keys, Snapshot(self.seq, self._clock(), state))
        self._snapshot_taken = time.monotonic()

    async def _apply(self, envelopes: list[Envelope], cursor: bytes | None) -> None:
        """Handle a batch; journal its events (and move the cursor) atomically; then reply."""
        journal: list[tuple[int, Event, bytes]] = []
        replies: dict[str, list[tuple[str, Reply]]] = defaultdict(list)
        for command_id, command, reply_to in envelopes:
            reply: Reply
            if command is None:
                reply = Rejected(int(Code.UNKNOWN), "Malformed command.")
            else:
                events, reply = self._engine.handle(command)
                for event in events:
                    self.seq += 1
                    journal.append((self.seq, event, command_id))
            if reply_to is not None:
                worker, rid = reply_to
                replies[worker].append((rid, reply))
        # A liquidation can touch books other than its command's own: the batch's events say
        # which, and the depth streams and snapshots follow them.
        for change in self._engine.book_changes([event for _seq, event, _c in journal]):
            self.seq += 1
            journal.append((self.seq, change, BOOKS))
            self._dirty.add(change.symbol)
        journaled_at = self._clock()
        pipe = self._redis.pipeline(transaction=True)
        for seq, event, command_id in journal:
            pipe.xadd(
                self._keys.journal,
                {"m": codec.encode(event), "c": command_id, "t": journaled_at},
                id=streams.journal_id(seq),
            )
        if cursor is not None:
            pipe.set(self._keys.engine_cursor, cursor)
            self.cursor = cursor.decode()
        pipe.set(self._keys.journal_head, self.seq)
        await pipe.execute()
        engine_applied(len(envelopes), len(journal))
        after = self._redis.pipeline(transaction=False)
        for worker, batch in replies.items():
            after.publish(self._keys.reply(worker), encode_replies(batch))
        # Up to and including the cursor, so the stream's length is the queue's depth.
        after.xtrim(self._keys.orders, minid=_next_id(self.cursor))
        await after.execute()

    async def _publish_depth(self) -> None:
        now_ms = self._clock()
        pipe = self._redis.pipeline(transaction=False)
        for symbol in self._dirty:
            update_id, bids, asks = self._engine.depth(symbol, self._depth_levels)
            pipe.set(self._keys.depth(symbol), records.dump_depth(update_id, now_ms, bids, asks))
        await pipe.execute()
        self._dirty.clear()
        self._depth_published = time.monotonic()
