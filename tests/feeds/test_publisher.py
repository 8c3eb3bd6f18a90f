"""The publisher's loop against a real Redis: a journal written by hand, channels read raw."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Sequence
from typing import Any, cast

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from exchange_mock.domain import codec
from exchange_mock.domain.events import (
    BalanceChanged,
    Event,
    LeverageChanged,
    PositionChanged,
    PositionLiquidated,
    TradeExecuted,
)
from exchange_mock.faults.kinds import FaultKind, FixedFaults
from exchange_mock.feeds.publisher import FeedPublisher
from exchange_mock.store import records, streams
from exchange_mock.store.keys import Keys
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import AccountId, OrderId, Side, TradeId

SYMBOLS = SymbolTable.load()


class Journal:
    """Appends events as the engine does: `<seq>-0` ids, the command's id, the head."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis, self.keys, self.seq = redis, keys, 0

    async def append(self, command_id: bytes, events: Sequence[Event]) -> None:
        pipe = self.redis.pipeline(transaction=True)
        for event in events:
            self.seq += 1
            fields = {"m": codec.encode(event), "c": command_id}
            pipe.xadd(self.keys.journal, fields, id=streams.journal_id(self.seq))  # type: ignore[arg-type]
        pipe.set(self.keys.journal_head, self.seq)
        await pipe.execute()


async def started(publisher: FeedPublisher) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(publisher.run(stop))
    await asyncio.sleep(0.1)
    return stop, task


async def received(pubsub: PubSub, count: int, timeout_s: float = 5) -> list[Any]:
    bodies: list[Any] = []
    async with asyncio.timeout(timeout_s):
        while len(bodies) < count:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
            if message is not None:
                bodies.append(orjson.loads(message["data"]))
    return bodies


def leverage(account: int, value: int, ts: int = 1) -> LeverageChanged:
    return LeverageChanged(AccountId(account), "BTCUSDT", value, ts)


async def test_the_feed_starts_at_the_head_and_keeps_a_command_together_across_reads(
    redis: Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    journal = Journal(redis, keys)
    await journal.append(b"1-0", [leverage(1, 2)])
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.user_feed(1))
    publisher = FeedPublisher(redis, keys, SYMBOLS, batch=2, force_order_interval_ms=1_000)
    stop, task = await started(publisher)
    try:
        # Read two at a time, the command's events span two reads; still one ACCOUNT_UPDATE.
        position = PositionChanged(AccountId(1), "BTCUSDT", 2, 2 * 1_225_000 * 10_000, 5)
        balance = BalanceChanged(AccountId(1), 99 * 10**8, 0, 10**8, 5)
        await journal.append(b"2-0", [position, leverage(1, 3), balance])
        config, update = await received(pubsub, 2)
        assert config["ac"]["l"] == 3, "the event journaled before the start is not sent"
        assert update["e"] == "ACCOUNT_UPDATE"
        assert (update["a"]["B"][0]["wb"], update["a"]["P"][0]["pa"]) == ("99.00000000", "0.002")
        assert publisher.seq == 4
    finally:
        stop.set()
        await task
        await pubsub.aclose()  # type: ignore[no-untyped-call]


async def test_feed_delay_holds_messages_back(redis: Redis, key_prefix: str) -> None:
    keys = Keys(key_prefix)
    journal = Journal(redis, keys)
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.user_feed(1))
    faults = FixedFaults({FaultKind.FEED_DELAY_MS: 300})
    publisher = FeedPublisher(redis, keys, SYMBOLS, 64, 1_000, faults)
    stop, task = await started(publisher)
    try:
        journaled = time.monotonic()
        await journal.append(b"1-0", [leverage(1, 2)])
        await received(pubsub, 1)
        assert time.monotonic() - journaled >= 0.3
    finally:
        stop.set()
        await task
        await pubsub.aclose()  # type: ignore[no-untyped-call]


async def test_liquidations_are_counted_in_the_stats_hash_pushed_or_not(
    redis: Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    journal = Journal(redis, keys)
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.feed("!forceOrder@arr"))
    publisher = FeedPublisher(redis, keys, SYMBOLS, 64, force_order_interval_ms=200)
    stop, task = await started(publisher)
    try:
        now = int(time.time() * 1000)
        window = now - now % 200
        await journal.append(b"1-0", [liquidated(window + i) for i in range(7)])
        (pushed,) = await received(pubsub, 1)
        assert pushed["o"]["s"] == "ETHUSDT" and pushed["E"] == window + 6
        async with asyncio.timeout(5):
            while True:
                stats = await cast(Awaitable[dict[bytes, bytes]], redis.hgetall(keys.feed_stats))
                if stats.get(b"forceOrder:ETHUSDT"):
                    break
                await asyncio.sleep(0.02)
        assert stats == {b"liquidations:ETHUSDT": b"7", b"forceOrder:ETHUSDT": b"1"}
    finally:
        stop.set()
        await task
        await pubsub.aclose()  # type: ignore[no-untyped-call]


def liquidated(ts: int) -> PositionLiquidated:
    return PositionLiquidated(
        AccountId(2), "ETHUSDT", Side.BUY, 1, 400_000, 1, 400_000 * 100, 0, 0, 400_000, ts
    )


async def test_marks_beat_from_the_read_model_before_the_journal_changes_them(
    redis: Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    await redis.hset(keys.marks, "BTCUSDT", records.dump_mark(1_225_000, 77, 1_224_000, -2_500))
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.feed("!markPrice@arr@1s"))
    publisher = FeedPublisher(redis, keys, SYMBOLS, 64, 1_000)
    stop, task = await started(publisher)
    try:
        ((update,),) = await received(pubsub, 1, timeout_s=2)
        assert (update["s"], update["E"], update["p"], update["i"], update["r"]) == (
            "BTCUSDT", 77, "122500.00000000", "122400.00000000", "-0.00002500",
        )  # fmt: skip
    finally:
        stop.set()
        await task
        await pubsub.aclose()  # type: ignore[no-untyped-call]


async def test_tickers_carry_on_from_the_read_models_when_the_feed_starts(
    redis: Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    # As the projector left it: six trades before this feed started.
    ticker = {"last": 1_224_000, "open": 1_220_000, "high": 1_226_000, "low": 1_219_000,
              "volume": 10, "quote_volume": 12_220_000, "first_id": 1, "last_id": 6,
              "count": 6, "open_time": 5, "close_time": 9}  # fmt: skip
    await redis.hset(keys.ticker("BTCUSDT"), mapping=ticker)
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.feed("!ticker@arr"))
    publisher = FeedPublisher(redis, keys, SYMBOLS, 64, 1_000)
    stop, task = await started(publisher)
    try:
        trade = TradeExecuted(
            "BTCUSDT", TradeId(7), 1_230_000, 2, Side.BUY, OrderId(9), OrderId(3),
            AccountId(1), AccountId(2), int(time.time() * 1000),
        )  # fmt: skip
        await Journal(redis, keys).append(b"1-0", [trade])
        ((pushed,),) = await received(pubsub, 1, timeout_s=3)
        assert (pushed["n"], pushed["F"], pushed["L"], pushed["v"]) == (7, 1, 7, "0.012")
        assert (pushed["o"], pushed["c"], pushed["h"]) == ("122000.00", "123000.00", "123000.00")
    finally:
        stop.set()
        await task
        await pubsub.aclose()  # type: ignore[no-untyped-call]
