"""What does rate limiting cost a request? `RateLimiter.admit` against the floor: one bare Redis
PING per request, on the same embedded redis-server, in the same run.

For each it prints Redis round trips per request (counted at the client's connections), the
latency of one caller alone (median and p99, µs), and the throughput of many concurrent asyncio
callers sharing one connection pool on uvloop, as the API workers run (requests/s); then admit's
ratios to the baseline. Requests come from thousands of client IPs and accounts, so none is
refused (a refusal would end the run): this is the cost of admission itself.

Run: python benchmarks/ratelimit_overhead.py
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import uvloop
from redis.asyncio import BlockingConnectionPool, Connection, Redis

from exchange_mock.api.ratelimit import RateLimiter, RateLimitTable
from exchange_mock.redis_server import EmbeddedRedis
from exchange_mock.store.keys import Keys

SEQUENTIAL = 2_000
"""Requests timed one at a time, for latency, per variant and round."""
CALLERS = 64
SECONDS = 0.5
"""How long the concurrent callers run, per variant and round."""
ROUNDS = 3
"""Variants take turns, and each figure is the median over rounds: fairer on a busy machine."""
IPS = 4_096
ACCOUNTS = 1_024

Request = Callable[[int], Awaitable[object]]
"""One request, given its sequence number."""


class CountingConnection(Connection):
    """Counts what it sends to Redis: one send is one round trip."""

    sent = 0

    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        CountingConnection.sent += 1
        await super().send_packed_command(command, check_health)


@dataclass(frozen=True, slots=True)
class Figures:
    round_trips: float
    p50_us: float
    p99_us: float
    per_second: float

    @staticmethod
    def median(rounds: list[Figures]) -> Figures:
        return Figures(
            *(statistics.median(getattr(f, field) for f in rounds) for field in Figures.__slots__)
        )


async def measure(request: Request) -> Figures:
    CountingConnection.sent = 0
    latencies = []
    for n in range(SEQUENTIAL):
        start = time.perf_counter_ns()
        await request(n)
        latencies.append((time.perf_counter_ns() - start) / 1_000)
    round_trips = CountingConnection.sent / SEQUENTIAL

    done = 0
    deadline = time.perf_counter() + SECONDS

    async def caller(first: int) -> None:
        nonlocal done
        n = first
        while time.perf_counter() < deadline:
            await request(n)
            n += CALLERS
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(caller(SEQUENTIAL + c) for c in range(CALLERS)))
    elapsed = time.perf_counter() - started
    p99 = statistics.quantiles(latencies, n=100)[98]
    return Figures(round_trips, statistics.median(latencies), p99, done / elapsed)


def ip_of(n: int) -> str:
    return f"10.{n % IPS // 256}.{n % 256}.1"


async def run(url: str) -> dict[str, Figures]:
    pool = BlockingConnectionPool.from_url(
        url, max_connections=CALLERS, connection_class=CountingConnection
    )
    redis = Redis(connection_pool=pool)
    limiter = RateLimiter(redis, Keys("bench"), RateLimitTable.load())

    async def ping(n: int) -> object:
        return await redis.ping()

    async def weighted(n: int) -> object:
        return await limiter.admit(ip_of(n), 5, n % ACCOUNTS, False)

    async def order(n: int) -> object:
        return await limiter.admit(ip_of(n), 0, n % ACCOUNTS, True)

    variants: dict[str, Request] = {
        "baseline: PING": ping,
        "admit: weight 5 (1 window)": weighted,
        "admit: new order (3 windows)": order,
    }
    rounds: dict[str, list[Figures]] = {name: [] for name in variants}
    try:
        await order(-1)  # the first call loads the script into the server
        for _ in range(ROUNDS):
            for name, request in variants.items():
                rounds[name].append(await measure(request))
    finally:
        await redis.aclose()
        await pool.disconnect()
    return {name: Figures.median(figures) for name, figures in rounds.items()}


def report(results: dict[str, Figures]) -> None:
    print(
        f"rate-limit overhead: {SEQUENTIAL} sequential requests, then {CALLERS} concurrent "
        f"callers for {SECONDS} s, per variant; medians of {ROUNDS} interleaved rounds"
    )
    print(f"{'':30} {'round trips':>11} {'p50 µs':>8} {'p99 µs':>8} {'requests/s':>11}")
    for name, f in results.items():
        print(
            f"{name:30} {f.round_trips:11.2f} {f.p50_us:8.1f} {f.p99_us:8.1f} {f.per_second:11,.0f}"
        )
    base = results["baseline: PING"]
    for name, f in results.items():
        if f is not base:
            print(
                f"{name} / baseline: latency ×{f.p50_us / base.p50_us:.2f}, "
                f"throughput ×{f.per_second / base.per_second:.2f}"
            )


def main() -> None:
    with EmbeddedRedis() as server:
        report(uvloop.run(run(server.url)))


if __name__ == "__main__":
    main()
