"""The command bus: the API appends commands to the orders stream and waits for the engine's
reply on its own pub/sub channel, up to a deadline.

Each API worker process has one channel (`p:reply:<worker>`) and one listener task, and matches
replies to waiting requests by a request id carried with the command. Past the deadline the
client gets -1007 while the command stays queued and may still execute: exactly the ambiguity a
real venue's clients live with.

When Redis cannot be reached the command was never appended, and the client is told so (-1001,
HTTP 503: try again); a connection lost with the append in flight leaves its fate unknown, as
past the deadline (-1007). The reply listener outlives lost connections (`store/outage.py`);
replies published while it reconnects are lost, and their requests end at the deadline.

When the queue in front of the engine is deeper than the shedding limit, a new order is refused
with -1008 (HTTP 503) instead of joining it, atomically with the append (`scripts/shed.lua`).
Orders that only reduce a position are exempt, as on Binance: they are how a client gets out of
risk when the venue is overloaded. So are cancels, and the venue's own market makers.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from exchange_mock.domain import codec
from exchange_mock.domain.commands import Command, PlaceOrder
from exchange_mock.domain.replies import Reply
from exchange_mock.errors import DISCONNECTED_MSG, OVERLOADED_MSG, Code, ExchangeError
from exchange_mock.store import scripts
from exchange_mock.store.keys import Keys
from exchange_mock.store.outage import REDIS_DOWN, Unreachable, keep_running, out_of_memory
from exchange_mock.store.streams import IDLE_BLOCK_MS
from exchange_mock.types import AccountId

TIMEOUT_MSG = (
    "Timeout waiting for response from backend server. Send status unknown; "
    "execution status unknown."
)


AckObserver = Callable[[float, BaseException | None], None]
"""Told of each command submitted: how long it waited for the engine (seconds), and the error it
ended in (None when the engine replied). The node injects the metrics' observer, so the bus
knows nothing of them."""


@dataclass(frozen=True, slots=True)
class Shedding:
    """Which commands are refused rather than queued when the engine falls behind."""

    depth: int
    """The deepest orders queue a new order may join."""
    exempt: frozenset[AccountId]
    """Accounts never shed: the venue's own market makers."""

    def applies_to(self, command: Command) -> bool:
        return (
            isinstance(command, PlaceOrder)
            and not command.reduce_only
            and command.account not in self.exempt
        )


def encode_replies(replies: list[tuple[str, Reply]]) -> bytes:
    """One message for many replies to one worker: `<request id> <reply JSON>` per line."""
    return b"\n".join(rid.encode() + b" " + codec.encode(reply) for rid, reply in replies)


def decode_replies(message: bytes) -> list[tuple[str, Reply]]:
    pairs: list[tuple[str, Reply]] = []
    for line in message.split(b"\n"):
        rid, _, body = line.partition(b" ")
        pairs.append((rid.decode(), codec.decode_reply(body)))
    return pairs


def reply_address(raw: str) -> tuple[str, str]:
    """Split `<worker>/<request id>` as carried in the stream entry's `r` field."""
    worker, _, rid = raw.partition("/")
    return worker, rid


class CommandBus:
    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        timeout_ms: int,
        shedding: Shedding | None = None,
        observe_ack: AckObserver | None = None,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._timeout_s = timeout_ms / 1000
        self._shedding = shedding
        self._observe_ack = observe_ack
        self._append_unless_deep = redis.register_script(scripts.source("shed"))
        self.worker = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._ids = itertools.count(1)
        self._pending: dict[str, asyncio.Future[Reply]] = {}
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self._stopping = asyncio.Event()
        self.shed = 0
        """New orders this process refused (-1008) since it started."""

    async def start(self) -> None:
        """Start the reply listener; return once it is subscribed."""
        self._listener = asyncio.create_task(
            keep_running("reply listener", self._listen, self._stopping, self._redis),
            name="reply-listener",
        )
        await self._listening.wait()

    async def stop(self) -> None:
        self._stopping.set()
        if self._listener is not None:
            await self._listener

    async def submit(self, command: Command) -> Reply:
        """Append the command and wait for the engine's reply.

        Raises ExchangeError(-1007, HTTP 408) past the deadline; the command stays queued.
        Raises ExchangeError(-1008, HTTP 503) when the command is shed; it is not queued.
        Raises ExchangeError(-1001, HTTP 503) when Redis cannot be reached; it is not queued.
        """
        if self._observe_ack is None:
            return await self._submit(command)
        started = time.perf_counter()
        try:
            reply = await self._submit(command)
        except BaseException as error:
            self._observe_ack(time.perf_counter() - started, error)
            raise
        self._observe_ack(time.perf_counter() - started, None)
        return reply

    async def _submit(self, command: Command) -> Reply:
        message = codec.encode(command)  # before the reply is awaited: a refusal leaks none
        rid = str(next(self._ids))
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending[rid] = future
        reply_to = f"{self.worker}/{rid}"
        try:
            async with asyncio.timeout(self._timeout_s):
                if self._shedding is not None and self._shedding.applies_to(command):
                    args = (self._shedding.depth, "m", message, "r", reply_to)
                    if await self._append_unless_deep([self._keys.orders], args) is None:
                        self.shed += 1
                        raise ExchangeError(Code.SERVER_BUSY, OVERLOADED_MSG)
                else:
                    await self._redis.xadd(self._keys.orders, {"m": message, "r": reply_to})
                return await future
        except Unreachable:
            raise ExchangeError(Code.DISCONNECTED, DISCONNECTED_MSG) from None
        except TimeoutError:
            raise ExchangeError(Code.TIMEOUT, TIMEOUT_MSG, http_status=408) from None
        except REDIS_DOWN:
            # Lost with the append in flight: it may be queued, as past the deadline.
            raise ExchangeError(Code.TIMEOUT, TIMEOUT_MSG, http_status=408) from None
        except RedisError as error:
            if not out_of_memory(error):
                raise
            raise ExchangeError(Code.SERVER_BUSY, OVERLOADED_MSG) from None
        finally:
            self._pending.pop(rid, None)

    async def _listen(self, stop: asyncio.Event) -> None:
        pubsub: PubSub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self._keys.reply(self.worker))
            self._listening.set()
            while not stop.is_set():
                message = await pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=IDLE_BLOCK_MS / 1000
                )
                if message is None:
                    continue
                for rid, reply in decode_replies(message["data"]):
                    future = self._pending.get(rid)
                    if future is not None and not future.done():
                        future.set_result(reply)
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
