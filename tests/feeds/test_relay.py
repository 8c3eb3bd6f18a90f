"""The per-worker relay against a real Redis: confirmed subscriptions, fan-out to every relay,
raw and combined frames, the slow-consumer bound, and listenKeyExpired."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import cast

import orjson
import pytest
from redis.asyncio import Redis

from exchange_mock.feeds.payloads import listen_key_expired
from exchange_mock.feeds.relay import SLOW_CONSUMER, FeedRelay, Subscriber
from exchange_mock.store.keys import Keys


@pytest.fixture
def keys(key_prefix: str) -> Keys:
    return Keys(key_prefix)


class Running:
    """Relays running as they do in API workers, stopped by their flags at the end."""

    def __init__(self) -> None:
        self._running: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    def start(self, relay: FeedRelay) -> FeedRelay:
        stop = asyncio.Event()
        self._running.append((stop, asyncio.create_task(relay.run(stop))))
        return relay

    async def stop(self) -> None:
        for stop, task in self._running:
            stop.set()
            await task


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    relays = Running()
    yield relays
    await relays.stop()


async def take(subscriber: Subscriber, count: int) -> list[str]:
    frames: list[str] = []
    async with asyncio.timeout(5):
        async for frame in subscriber.frames():
            frames.append(frame)
            if len(frames) == count:
                break
    return frames


async def test_every_relay_delivers_a_message_published_after_subscribe_returns(
    redis: Redis, keys: Keys, running: Running
) -> None:
    """Two relays stand for two API worker processes; the publisher reaches both."""
    relays = [running.start(FeedRelay(redis, keys, 100)) for _ in range(2)]
    raw, combined = relays[0].attach(combined=False), relays[1].attach(combined=True)
    channel = keys.feed("btcusdt@markPrice")
    await relays[0].subscribe(raw, {"btcusdt@markPrice": channel})
    await relays[1].subscribe(combined, {"btcusdt@markPrice": channel})
    await redis.publish(channel, b'{"e":"markPriceUpdate"}')
    assert await take(raw, 1) == ['{"e":"markPriceUpdate"}']
    assert await take(combined, 1) == [
        '{"stream":"btcusdt@markPrice","data":{"e":"markPriceUpdate"}}'
    ]


async def test_a_detached_or_unsubscribed_client_gets_nothing_more(
    redis: Redis, keys: Keys, running: Running
) -> None:
    relay = running.start(FeedRelay(redis, keys, 100))
    client = relay.attach(combined=True)
    a, b = keys.feed("a@x"), keys.feed("b@x")
    await relay.subscribe(client, {"a@x": a, "b@x": b})
    relay.unsubscribe(client, [a])
    await redis.publish(a, b"1")
    await redis.publish(b, b"2")
    assert await take(client, 1) == ['{"stream":"b@x","data":2}']
    relay.detach(client)
    await redis.publish(b, b"3")
    assert await take(client, 1) == []


async def test_a_slow_consumer_is_dropped_when_its_queue_is_full_and_counted(
    redis: Redis, keys: Keys, running: Running
) -> None:
    relay = running.start(FeedRelay(redis, keys, 3))
    slow, fast = relay.attach(combined=False), relay.attach(combined=False)
    channel = keys.feed("btcusdt@forceOrder")
    await relay.subscribe(slow, {"btcusdt@forceOrder": channel})
    await relay.subscribe(fast, {"btcusdt@forceOrder": channel})
    for n in range(5):
        await redis.publish(channel, str(n).encode())
        if n < 4:
            assert await take(fast, 1) == [str(n)]
    assert await take(fast, 1) == ["4"]
    assert slow.ending == (1008, "slow consumer: more than 3 messages waiting")
    assert relay.dropped == 1
    assert await take(slow, 1) == [], "a dropped client's queued frames are discarded"
    async with asyncio.timeout(5):
        while (
            await cast(Awaitable[bytes | None], redis.hget(keys.feed_stats, SLOW_CONSUMER)) != b"1"
        ):
            await asyncio.sleep(0.02)


async def test_listen_key_expired_is_delivered_then_that_stream_ends_and_others_go_on(
    redis: Redis, keys: Keys, running: Running
) -> None:
    relay = running.start(FeedRelay(redis, keys, 100))
    client = relay.attach(combined=False)
    user, market = keys.user_feed(7), keys.feed("btcusdt@markPrice")
    await relay.subscribe(client, {"k" * 64: user, "btcusdt@markPrice": market})
    notice = orjson.dumps(listen_key_expired("k" * 64, 123))
    await relay.publish(user, notice)
    await relay.publish(user, b'{"e":"ORDER_TRADE_UPDATE"}')
    await relay.publish(market, b'{"e":"markPriceUpdate"}')
    assert await take(client, 2) == [notice.decode(), '{"e":"markPriceUpdate"}']
    assert list(client.streams.values()) == ["btcusdt@markPrice"]


async def test_a_lost_subscription_closes_every_client_and_the_relay_subscribes_again(
    redis: Redis, keys: Keys, running: Running
) -> None:
    """Redis cuts a subscriber that falls behind its output buffer limit; what it had not sent is
    gone, so every client is told to reconnect rather than left with a silent gap."""
    relay = running.start(FeedRelay(redis, keys, 100))
    before = relay.attach(combined=False)
    channel = keys.feed("btcusdt@markPrice")
    await relay.subscribe(before, {"btcusdt@markPrice": channel})
    await redis.client_kill_filter(_type="pubsub")
    assert await take(before, 1) == []
    assert before.ending == (1012, "feed interrupted: messages were lost, reconnect to resume")
    assert relay.interruptions == 1
    after = relay.attach(combined=False)
    await relay.subscribe(after, {"btcusdt@markPrice": channel})
    await redis.publish(channel, b"{}")
    assert await take(after, 1) == ["{}"]
