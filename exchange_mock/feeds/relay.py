"""Fan-out in one API worker process: one pub/sub connection to Redis for every WebSocket client
the process serves, relaying each channel's messages to the local clients subscribed to it. Every
worker subscribes to what its own clients want, so a client on any worker sees every event.

Two loops share the pub/sub connection: a listener that only reads it, and a subscriber that only
writes SUBSCRIBE commands to it. WebSocket handlers never touch Redis: they ask, and wait for
Redis's confirmation on a future, so a client disconnecting mid-subscribe cancels a wait, never a
Redis command in flight. A subscription is confirmed before its client is told it exists, so a
client sees every message published after its handshake (or its SUBSCRIBE's answer).

Channels are subscribed on first demand and unsubscribed when their last local client leaves,
so clients coming and going leave no subscription behind. The subscriber loop sends a round's
UNSUBSCRIBEs before its SUBSCRIBEs, and skips a channel asked for again meanwhile: a client
arriving just after the last one left is never left unsubscribed. (After a lost subscription
the channels redis-py subscribes again stay until next wanted and left.)

Nothing is lost silently; a client is closed instead, with a reason, and counted:

- Slow consumers: each client has a bounded queue of frames waiting to be sent. A client whose
  queue is full when a message arrives is dropped: detached at once, then closed (1008). Dropping
  oldest instead would hide messages (and a hidden liquidation is exactly what the harness
  measures), while a disconnect is visible, and what Binance does to a client that cannot keep
  up. Counted in `dropped` and the `slow_consumers` stats field.
- A lost subscription: when Redis drops the relay's connection (as it does to a subscriber that
  falls further behind than its output buffer limit) or the connection fails, messages were
  lost for every client of this process, so each is closed (1012, reconnect) while the relay
  reconnects and subscribes again. Counted in `interruptions`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import cast

from redis.asyncio import Redis

from exchange_mock.feeds.payloads import LISTEN_KEY_EXPIRED
from exchange_mock.store.keys import Keys
from exchange_mock.store.outage import REDIS_DOWN, OutageLog
from exchange_mock.store.streams import IDLE_BLOCK_MS

log = logging.getLogger(__name__)

SUBSCRIBE_TIMEOUT_S = 5.0
"""How long a client waits for Redis to confirm its subscriptions before giving up."""
SLOW_CONSUMER = "slow_consumers"
"""The stats field counting clients dropped as slow consumers."""
POLICY_VIOLATION = 1008
SERVICE_RESTART = 1012
"""Close code telling a client to reconnect: the feed behind its connection broke."""
FEED_INTERRUPTED = "feed interrupted: messages were lost, reconnect to resume"


class _Frames:
    """One published message as clients receive it: raw, or wrapped for a combined stream under
    each name it was subscribed as; each form built once, however many clients take it."""

    __slots__ = ("_wrapped", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._wrapped: dict[str, str] = {}

    def wrapped(self, stream: str) -> str:
        frame = self._wrapped.get(stream)
        if frame is None:
            # Stream names are validated to characters that need no JSON escaping.
            frame = self._wrapped[stream] = f'{{"stream":"{stream}","data":{self.text}}}'
        return frame


class Subscriber:
    """One WebSocket client as the relay sees it: its streams and its bounded outgoing queue."""

    def __init__(self, capacity: int, combined: bool) -> None:
        self.combined = combined
        """Frames go out wrapped as `{"stream": name, "data": payload}`."""
        self.streams: dict[str, str] = {}
        """Channel -> the stream name the client subscribed it as."""
        self.capacity = capacity
        self.ending: tuple[int, str] | None = None
        """Close code and reason when the relay ended the client; its connection must close."""
        self._frames: deque[str] = deque()
        self._wake = asyncio.Event()
        self._closed = False

    def send(self, frame: str) -> bool:
        """Queue a frame; False (and nothing queued) when the queue is full."""
        if len(self._frames) >= self.capacity:
            return False
        self._frames.append(frame)
        self._wake.set()
        return True

    def close(self) -> None:
        """End `frames()`; a client the relay ended has its queued frames discarded."""
        self._closed = True
        self._wake.set()

    async def frames(self) -> AsyncIterator[str]:
        """Queued frames in order until closed; a frame stays counted against the bound until
        it is taken here, one at a time, so the bound holds while a slow send is under way."""
        while True:
            while self._frames and self.ending is None:
                yield self._frames.popleft()
            if self._closed:
                return
            await self._wake.wait()
            self._wake.clear()


class FeedRelay:
    def __init__(self, redis: Redis, keys: Keys, queue_size: int) -> None:
        self.keys = keys
        self._redis = redis
        self._pubsub = redis.pubsub()
        self._queue_size = queue_size
        self._members: dict[str, set[Subscriber]] = defaultdict(set)
        self._requested: set[str] = set()
        """Channels a SUBSCRIBE was asked for and that some local client still wants."""
        self._active: set[str] = set()
        """Channels Redis has confirmed on the current connection."""
        self._waiters: dict[str, list[asyncio.Future[None]]] = defaultdict(list)
        self._to_subscribe: list[str] = []
        self._to_unsubscribe: list[str] = []
        self._wake = asyncio.Event()
        self._outage = OutageLog("feed relay")
        self._connected = asyncio.Event()
        """Set once a SUBSCRIBE has been sent: before it, the pub/sub has no connection to read."""
        self.dropped = 0
        """Clients dropped as slow consumers by this process."""
        self._dropped_reported = 0
        self.interruptions = 0
        """Times this process lost its subscription and closed its clients."""

    # -- for WebSocket handlers (no Redis I/O) ------------------------------------------------

    def attach(self, combined: bool) -> Subscriber:
        return Subscriber(self._queue_size, combined)

    async def subscribe(self, subscriber: Subscriber, streams: Mapping[str, str]) -> None:
        """Add `streams` (name -> channel) to the subscriber; return once Redis has confirmed
        every channel. TimeoutError if it does not within SUBSCRIBE_TIMEOUT_S."""
        loop = asyncio.get_running_loop()
        waits: list[asyncio.Future[None]] = []
        for name, channel in streams.items():
            subscriber.streams[channel] = name
            self._members[channel].add(subscriber)
            if channel in self._active:
                continue
            waiter = loop.create_future()
            self._waiters[channel].append(waiter)
            waits.append(waiter)
            if channel not in self._requested:
                self._requested.add(channel)
                self._to_subscribe.append(channel)
                self._wake.set()
        if waits:
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT_S):
                await asyncio.gather(*waits)

    def unsubscribe(self, subscriber: Subscriber, channels: Iterable[str]) -> None:
        for channel in channels:
            subscriber.streams.pop(channel, None)
            members = self._members.get(channel)
            if members is None:
                continue
            members.discard(subscriber)
            if not members:
                del self._members[channel]
                self._to_unsubscribe.append(channel)
                self._wake.set()

    def detach(self, subscriber: Subscriber) -> None:
        """The client is gone: stop relaying to it and end its frames."""
        self.unsubscribe(subscriber, list(subscriber.streams))
        subscriber.close()

    def drop(self, subscriber: Subscriber) -> None:
        """Drop a slow consumer: detach it now; its handler closes the connection."""
        reason = f"slow consumer: more than {subscriber.capacity} messages waiting"
        if self.end(subscriber, POLICY_VIOLATION, reason):
            self.dropped += 1

    async def publish(self, channel: str, payload: bytes) -> None:
        """Publish to every worker's clients of `channel` (for notices the API itself sends)."""
        await self._redis.publish(channel, payload)

    # -- the loops ----------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Listen and subscribe until `stop` is set."""
        try:
            outcomes = await asyncio.gather(
                _stopping_on_exit(self._listen, stop),
                _stopping_on_exit(self._subscribe, stop),
                return_exceptions=True,
            )
        finally:
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _subscribe(self, stop: asyncio.Event) -> None:
        """Send the UNSUBSCRIBEs and SUBSCRIBEs handlers asked for; report drops to the stats
        hash. Redis being unreachable only postpones them to the next round."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(IDLE_BLOCK_MS / 1000):
                    await self._wake.wait()
            self._wake.clear()
            try:
                if self._to_unsubscribe:
                    await self._unsubscribe_unwanted()
                if self._to_subscribe:
                    channels = list(self._to_subscribe)
                    await self._pubsub.subscribe(*channels)
                    # Handlers may have asked for more meanwhile, after these.
                    del self._to_subscribe[: len(channels)]
                    self._connected.set()
                delta = self.dropped - self._dropped_reported
                if delta:
                    field, stats = SLOW_CONSUMER, self.keys.feed_stats
                    await cast(Awaitable[int], self._redis.hincrby(stats, field, delta))
                    self._dropped_reported += delta
            except REDIS_DOWN as error:
                self._outage.lost(error)

    async def _unsubscribe_unwanted(self) -> None:
        """UNSUBSCRIBE the channels whose last client left, unless one came back meanwhile."""
        unwanted = {c for c in self._to_unsubscribe if not self._members.get(c)}
        self._to_unsubscribe.clear()
        unwanted &= self._requested
        if not unwanted:
            return
        self._requested -= unwanted
        self._active -= unwanted
        await self._pubsub.unsubscribe(*unwanted)

    async def _listen(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if not self._connected.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(IDLE_BLOCK_MS / 1000):
                        await self._connected.wait()
                continue
            try:
                message = await self._pubsub.get_message(timeout=IDLE_BLOCK_MS / 1000)
            except REDIS_DOWN as error:
                # The next read reconnects, and redis-py subscribes to every channel again.
                self._outage.lost(error)
                self._interrupted()
                await asyncio.sleep(IDLE_BLOCK_MS / 1000)
                continue
            if message is None:
                continue
            channel = message["channel"].decode()
            if message["type"] == "message":
                self._relay(channel, message["data"])
            elif message["type"] == "subscribe":
                self._outage.back()
                if channel in self._active:
                    # Confirmed again: redis-py reconnected on its own, and resubscribed.
                    self._interrupted()
                self._confirmed(channel)

    def _confirmed(self, channel: str) -> None:
        self._active.add(channel)
        for waiter in self._waiters.pop(channel, []):
            if not waiter.done():
                waiter.set_result(None)

    def _relay(self, channel: str, data: bytes) -> None:
        members = self._members.get(channel)
        if not members:
            return
        frames = _Frames(data.decode())
        expired = data.startswith(LISTEN_KEY_EXPIRED)
        for subscriber in list(members):
            name = subscriber.streams[channel]
            if not subscriber.send(frames.wrapped(name) if subscriber.combined else frames.text):
                self.drop(subscriber)
            elif expired:
                # Binance stops a listen key's events after this one; the connection stays.
                self.unsubscribe(subscriber, [channel])

    def _interrupted(self) -> None:
        """The subscription was lost, and messages with it: close every client."""
        if not self._active:
            return
        self.interruptions += 1
        self._active.clear()
        ended = {subscriber for members in self._members.values() for subscriber in members}
        log.warning("feed relay lost its subscription; closing %d clients", len(ended))
        for subscriber in ended:
            self.end(subscriber, SERVICE_RESTART, FEED_INTERRUPTED)
        # redis-py subscribes again to every channel it had, and confirms each: unsubscribing
        # now would race those confirmations, so the channels stay until next wanted and left.
        self._to_unsubscribe.clear()

    def end(self, subscriber: Subscriber, code: int, reason: str) -> bool:
        """Detach a client that is given up on, with the code and reason its connection closes
        with; False if it was ended already."""
        if subscriber.ending is not None:
            return False
        subscriber.ending = (code, reason)
        self.detach(subscriber)
        return True


async def _stopping_on_exit(
    loop: Callable[[asyncio.Event], Awaitable[None]], stop: asyncio.Event
) -> None:
    """Run one of the relay's loops; when it ends, for whatever reason, stop its sibling too, so
    neither outlives the shared connection."""
    try:
        await loop(stop)
    finally:
        stop.set()
