"""The round trip of every Redis command the exchange sends, by command.

Measured on the connection, from the moment a command (or pipeline) is handed to it to its last
reply: the faults' injected latency and a slow server count; the wait for a free connection in
the pool does not (it shows as request latency instead). A pipeline is one round trip, labelled
`MULTI` when it is a transaction and `PIPELINE` otherwise.

Commands that wait by design are left out, or they would report their timeouts as latency:
blocking stream reads (`XREAD ... BLOCK`) and pub/sub, whose replies arrive whenever a message
does.

Given a `RoundTrips` tally, each round trip is added to it too: the process's vitals report
their mean and slowest each second.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from prometheus_client import Histogram
from redis.exceptions import ResponseError
from redis.typing import EncodableT

from exchange_mock.faults.latency import SlowConnection
from exchange_mock.telemetry.registry import redis_metrics
from exchange_mock.telemetry.vitals import RoundTrips

UNTIMED = frozenset({"SUBSCRIBE", "UNSUBSCRIBE", "PSUBSCRIBE", "PUNSUBSCRIBE", "SSUBSCRIBE"})
TRANSACTION = "MULTI"
PIPELINE = "PIPELINE"


def _name(word: EncodableT) -> str:
    """A command's name as Redis knows it: its first word (`CLIENT SETINFO` is `CLIENT`)."""
    text = word.decode("ascii", "replace") if isinstance(word, bytes) else str(word)
    return text.split(" ", 1)[0].upper()


def _timed(args: tuple[EncodableT, ...]) -> str | None:
    """The label a command is timed under; None for one that waits by design."""
    name = _name(args[0])
    if name in UNTIMED or (name.startswith("XREAD") and "BLOCK" in map(_name, args)):
        return None
    return name


@cache
def _duration(command: str) -> Histogram:
    """The round-trip histogram of one command, labelled once: the client library's own lookup
    takes a lock and validates the label on every round trip."""
    return redis_metrics().command_duration.labels(command)


@dataclass(slots=True)
class _RoundTrip:
    command: str
    replies_left: int
    started: float


class MeasuredConnection(SlowConnection):
    """A connection that times each round trip it carries (see the module's docstring)."""

    def __init__(self, *, round_trips: RoundTrips | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._round_trips = round_trips
        self._packed: list[str | None] | None = None
        """Labels of the commands being packed into a pipeline, while it is packed."""
        self._next: tuple[str, int] | None = None
        """What the next send carries: its label and how many replies it expects."""
        self._in_flight: _RoundTrip | None = None

    def pack_command(self, *args: EncodableT) -> list[bytes]:
        label = _timed(args)
        if self._packed is not None:
            self._packed.append(label)
        else:
            self._next = None if label is None else (label, 1)
        return super().pack_command(*args)

    def pack_commands(self, commands: Iterable[Iterable[EncodableT]]) -> list[bytes]:
        self._packed = []
        try:
            packed = super().pack_commands(commands)
        finally:
            labels, self._packed = self._packed, None
        if labels and None not in labels:
            self._next = (TRANSACTION if labels[0] == TRANSACTION else PIPELINE, len(labels))
        else:
            self._next = None
        return packed

    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        started, carried, self._next = time.perf_counter(), self._next, None
        await super().send_packed_command(command, check_health)
        # Set once sent: commands a new connection sends first (HELLO, SELECT) come and go
        # inside the call above, each timed on its own.
        self._in_flight = None if carried is None else _RoundTrip(*carried, started)

    async def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            response = await super().read_response(*args, **kwargs)
        except ResponseError:
            self._replied()
            raise
        if response is not None or kwargs.get("timeout") is None:
            self._replied()
        return response

    def _replied(self) -> None:
        trip = self._in_flight
        if trip is None:
            return
        trip.replies_left -= 1
        if trip.replies_left == 0:
            self._in_flight = None
            elapsed = time.perf_counter() - trip.started
            _duration(trip.command).observe(elapsed)
            if self._round_trips is not None:
                self._round_trips.add(elapsed)
