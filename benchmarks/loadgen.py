"""A small HTTP/1.1 keep-alive load generator on raw asyncio streams, shared by the benchmarks.

It is deliberately bare (no client library overhead) so that the server, not the generator, is
what a benchmark measures; every benchmark compares two servers with this same generator.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Outcome:
    completed: int = 0
    failed: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def build_request(method: str, target: str, host: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", "Content-Length: 0"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


def _record(outcome: Outcome, status: int, since: float) -> None:
    outcome.latencies_ms.append((time.perf_counter() - since) * 1000)
    outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
    if status == 200:
        outcome.completed += 1
    else:
        outcome.failed += 1


async def closed_loop(
    host: str, port: int, requests: Sequence[bytes], connections: int, seconds: float
) -> Outcome:
    """As fast as `connections` keep-alive connections go: the server's maximum rate."""
    outcome = Outcome()
    cycle = itertools.cycle(requests)
    deadline = time.perf_counter() + seconds

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                _record(outcome, await _exchange(reader, writer, next(cycle)), started)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    outcome.seconds = time.perf_counter() - started
    return outcome


async def open_loop(
    host: str, port: int, requests: Sequence[bytes], rate: float, seconds: float, connections: int
) -> Outcome:
    """A constant offered rate; latency counted from each request's intended send time, so a
    stalled server shows up in the figures instead of slowing the generator down."""
    outcome = Outcome()
    cycle = itertools.cycle(requests)
    total = int(rate * seconds)
    start = time.perf_counter() + 0.05
    schedule = iter(range(total))
    lock = asyncio.Lock()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while True:
                async with lock:
                    n = next(schedule, None)
                if n is None:
                    return
                intended = start + n / rate
                delay = intended - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                _record(outcome, await _exchange(reader, writer, next(cycle)), intended)
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    outcome.seconds = time.perf_counter() - start
    return outcome
