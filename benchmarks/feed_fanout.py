"""Feed fan-out: messages/s one API worker delivers to K local WebSocket clients, against the
floor: the same payloads published to one raw Redis pub/sub subscriber, same Redis, same run.

Each round publishes a batch of forceOrder-shaped payloads on one feed channel (pipelined
PUBLISHes) and waits until every receiver has all of them, so the figure is sustained delivery,
not a burst into buffers. Batches stay under the per-client queue bound, so no client is dropped:
this is the relay's throughput, not its slow-consumer policy. The clients run in this process on
uvloop, as a load generator's would; on a small machine they share its cores with the exchange
and Redis, which the ratio includes.

Run: .venv/bin/python benchmarks/feed_fanout.py
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import cast

import orjson
import uvloop
from harness import bench_settings
from redis.asyncio import Redis
from rich.console import Console
from websockets.asyncio.client import connect

from exchange_mock.feeds.payloads import force_order
from exchange_mock.feeds.relay import SLOW_CONSUMER
from exchange_mock.feeds.throttle import Liquidation
from exchange_mock.redis_server import EmbeddedRedis
from exchange_mock.server import exchange_process
from exchange_mock.store.keys import Keys
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import Side

STREAM = "ethusdt@forceOrder"
"""A stream the exchange accepts and, with no liquidations in the run, never publishes on
itself, so only the benchmark's payloads flow."""
CLIENTS = (1, 10, 50)
BATCH = 200
SECONDS = 4.0
ROUNDS = 2


class Tally:
    """Messages received by every receiver together, and a wake-up once a target is reached."""

    def __init__(self) -> None:
        self.count = 0
        self.target = 0
        self.reached = asyncio.Event()

    def add(self) -> None:
        self.count += 1
        if self.count >= self.target:
            self.reached.set()

    async def wait_for(self, target: int) -> None:
        self.target = target
        self.reached.clear()
        if self.count < target:
            async with asyncio.timeout(30):
                await self.reached.wait()


async def sustained_rate(
    publish: Callable[[int], Awaitable[None]], tally: Tally, receivers: int
) -> float:
    """Messages delivered per second (over all receivers), batch after batch, for SECONDS."""
    start, sent = time.perf_counter(), 0
    while time.perf_counter() - start < SECONDS:
        await publish(BATCH)
        sent += BATCH
        await tally.wait_for(sent * receivers)
    return tally.count / (time.perf_counter() - start)


async def websocket_client(url: str, tally: Tally, joined: asyncio.Queue[None]) -> None:
    """One client; the exchange confirms its subscription before the handshake completes, so
    once connected it receives every later message."""
    async with connect(url, max_queue=None) as ws:
        joined.put_nowait(None)
        async for _frame in ws:
            tally.add()


async def pubsub_subscriber(
    redis_url: str, channel: str, tally: Tally, ready: asyncio.Event, stop: asyncio.Event
) -> None:
    """The floor: redis-py's own subscriber, stopped by a flag like the exchange's loops."""
    redis = Redis.from_url(redis_url)
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)
    ready.set()
    while not stop.is_set():
        if await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1) is not None:
            tally.add()
    await pubsub.aclose()  # type: ignore[no-untyped-call]
    await redis.aclose()


async def measure(
    redis_url: str, ws_url: str, channel: str, payload: bytes, client_counts: Sequence[int]
) -> tuple[float, dict[int, float]]:
    """The bare subscriber's rate, then the WebSocket rate for each number of clients."""
    redis = Redis.from_url(redis_url)

    async def publish(count: int) -> None:
        pipe = redis.pipeline(transaction=False)
        for _ in range(count):
            pipe.publish(channel, payload)
        await pipe.execute()

    delivered: dict[int, float] = {}
    try:
        tally, ready, stop = Tally(), asyncio.Event(), asyncio.Event()
        bare = asyncio.create_task(pubsub_subscriber(redis_url, channel, tally, ready, stop))
        await ready.wait()
        floor = await sustained_rate(publish, tally, 1)
        stop.set()
        await bare
        for clients in client_counts:
            tally, joined = Tally(), asyncio.Queue[None]()
            tasks = [
                asyncio.create_task(websocket_client(ws_url, tally, joined)) for _ in range(clients)
            ]
            async with asyncio.timeout(30):
                for _ in range(clients):
                    await joined.get()
            delivered[clients] = await sustained_rate(publish, tally, clients)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await redis.aclose()
    return floor, delivered


async def slow_consumers_dropped(redis_url: str, keys: Keys) -> int:
    redis = Redis.from_url(redis_url)
    try:
        raw = await cast(Awaitable[bytes | None], redis.hget(keys.feed_stats, SLOW_CONSUMER))
    finally:
        await redis.aclose()
    return int(raw or 0)


def sample_payload() -> bytes:
    spec = SymbolTable.load().by_name["BTCUSDT"]
    liquidation = Liquidation("BTCUSDT", Side.SELL, 14, 1_225_000, 14, 14 * 1_224_990 * 10_000, 0)
    return orjson.dumps(force_order(spec, liquidation))


def fan_out(stream: str, payload: bytes, client_counts: Sequence[int]) -> None:
    """Measure `payload` published on `stream` against the bare floor, and print the figures."""
    console = Console()
    with EmbeddedRedis() as redis:
        settings = bench_settings(redis.url)
        keys = Keys(settings.key_prefix)
        with exchange_process(settings):
            ws_url = f"ws://127.0.0.1:{settings.port}/ws/{stream}"
            floor, best = 0.0, dict.fromkeys(client_counts, 0.0)
            for _ in range(ROUNDS):
                bare, delivered = uvloop.run(
                    measure(redis.url, ws_url, keys.feed(stream), payload, client_counts)
                )
                floor = max(floor, bare)
                best = {clients: max(best[clients], delivered[clients]) for clients in best}
            dropped = uvloop.run(slow_consumers_dropped(redis.url, keys))
    console.print(f"{stream}: {len(payload)}-byte payloads, batches of {BATCH}, best of {ROUNDS}")
    console.print(f"bare pub/sub, 1 subscriber: {floor:7.0f} msg/s  {1e6 / floor:6.1f} µs/msg")
    for clients, rate in best.items():
        console.print(
            f"WebSocket, {clients:3} clients: {rate:7.0f} msg/s ({rate / clients:5.0f} each)"
            f" {1e6 / rate:6.1f} µs/msg  [bold]ratio {rate / floor:.2f}[/bold]"
        )
    console.print(f"clients dropped as slow consumers: {dropped}")


def main() -> None:
    fan_out(STREAM, sample_payload(), CLIENTS)


if __name__ == "__main__":
    main()
