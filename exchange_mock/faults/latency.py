"""Latency on Redis operations, by class: reads, writes, stream appends.

`SlowConnection` holds each command (or each pipeline, for the slowest class it contains) for
the fault's delay before sending it. The connection is checked out of the pool meanwhile, as it
would be on a slow network or in front of a slow server: under load the pool runs dry and
requests queue for a connection, so the delay compounds the way real latency does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable
from typing import Any

from redis.asyncio import Connection
from redis.typing import EncodableT

from exchange_mock.faults.kinds import FaultKind, FaultReader

_READS = ("GET", "MGET", "HGET", "HMGET", "HGETALL", "SMEMBERS", "SISMEMBER", "EXISTS",
          "XREAD", "XRANGE", "XREVRANGE", "XLEN", "PTTL", "TTL", "SCAN")  # fmt: skip
_WRITES = ("SET", "DEL", "HSET", "HDEL", "HINCRBY", "INCRBY", "SADD", "SREM", "EXPIRE",
           "PEXPIRE", "XTRIM", "PUBLISH", "EVAL", "EVALSHA")  # fmt: skip
CLASS_OF: dict[str, FaultKind] = {
    **dict.fromkeys(_READS, FaultKind.REDIS_READ_DELAY_MS),
    **dict.fromkeys(_WRITES, FaultKind.REDIS_WRITE_DELAY_MS),
    "XADD": FaultKind.REDIS_APPEND_DELAY_MS,
}
"""The fault that slows each command, by the name redis-py sends it under. Anything else
(connection setup, MULTI/EXEC, PING, subscriptions) is never slowed, so no fault can keep the
exchange from reaching Redis at all."""


class SlowConnection(Connection):
    """A Redis connection that adds the faults' latency for each command's class.

    A script counts as a write, unless its first key is one of `streams`: then it appends (the
    orders queue's check-and-append is a script, and still an append to the queue); or unless
    its SHA is one of `read_scripts`: then it only reads (the account read is one script).
    """

    def __init__(
        self,
        *,
        faults: FaultReader,
        streams: Collection[str] = (),
        read_scripts: Collection[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._faults = faults
        self._streams = frozenset(streams)
        self._read_scripts = frozenset(read_scripts)
        self._delay_ms = 0.0

    def pack_command(self, *args: EncodableT) -> list[bytes]:
        # Pipelines pack every command through here too: the round trip waits for the slowest.
        kind = CLASS_OF.get(args[0]) if isinstance(args[0], str) else None
        if args[0] == "EVALSHA":  # EVALSHA sha numkeys key...
            if args[1] in self._read_scripts:
                kind = FaultKind.REDIS_READ_DELAY_MS
            elif len(args) > 3 and args[2] and args[3] in self._streams:
                kind = FaultKind.REDIS_APPEND_DELAY_MS
        if kind is not None:
            self._delay_ms = max(self._delay_ms, self._faults.value(kind))
        return super().pack_command(*args)

    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        delay_ms, self._delay_ms = self._delay_ms, 0.0
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000)
        await super().send_packed_command(command, check_health)
