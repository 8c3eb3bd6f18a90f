"""A soak: the exchange (embedded Redis, market makers on) at a steady moderate load for
`--minutes`, printing once a minute Redis's memory, the journal's length and every process's
resident memory (Redis's memory and the journal averaged over each minute), then whether memory
levelled off (growth over the second half of the run as a share of growth over the first: under
5% is level), and how long the exchange takes to restart from the state the run left (start to
first acknowledged order).

Every store the run grows is bounded: finished orders expire after a retention window, the
journal is trimmed below its slowest reader, and each account's histories keep their newest
`history_rows` entries. The soak keeps 100 rows over 25 accounts, so that bound (and Redis's
switch of those sorted sets to their larger encoding past 128 entries) is reached in its first
minutes and what follows shows whether anything else grows; at the exchange's default of 1,000
the same bound is reached later, at about ten times the histories' memory.

Run: .venv/bin/python benchmarks/soak.py [--minutes 10] [--orders 100] [--reads 300]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from harness import signed_target
from loadgen import build_request, open_loop
from rich.console import Console

from exchange_mock.accounts import AccountBook
from exchange_mock.redis_server import free_port
from exchange_mock.server import exchange_process
from exchange_mock.settings import Settings

CONNECTIONS = 32


STATUS_EVERY_S = 5.0


@dataclass(frozen=True)
class Stored:
    redis_mb: float
    journal_length: int


@dataclass(frozen=True)
class Sample:
    minute: int
    redis_mb: float
    journal_length: int
    rss_mb: dict[str, float]


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (Linux)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        children = Path(f"/proc/{current}/task/{current}/children")
        if children.exists():
            queue += [int(child) for child in children.read_text().split()]
    return found


def rss_mb(pid: int) -> tuple[str, float]:
    name = Path(f"/proc/{pid}/comm").read_text().strip()
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return f"{name}[{pid}]", int(line.split()[1]) / 1024
    return f"{name}[{pid}]", 0.0


def requests(settings: Settings) -> tuple[list[bytes], list[bytes]]:
    """A minute's signed orders (market orders alternating sides, so positions stay small, and
    IOC limits far from the touch, which expire) and reads (positions, depth)."""
    orders, reads = [], []
    for account in AccountBook.from_settings(settings).traders:
        headers = {"X-MBX-APIKEY": account.api_key}
        for side in ("BUY", "SELL"):
            market = signed_target(
                "/fapi/v1/order",
                account,
                symbol="BTCUSDT",
                side=side,
                type="MARKET",
                quantity="0.001",
            )
            ioc = signed_target("/fapi/v1/order", account, symbol="ETHUSDT", side=side,
                                type="LIMIT", timeInForce="IOC", quantity="0.01",
                                price="4200" if side == "BUY" else "4500")  # fmt: skip
            orders += [build_request("POST", t, "soak", headers) for t in (market, ioc)]
        positions = signed_target("/fapi/v3/positionRisk", account)
        reads.append(build_request("GET", positions, "soak", headers))
        reads.append(build_request("GET", "/fapi/v1/depth?symbol=BTCUSDT", "soak", {}))
    return orders, reads


async def minute(settings: Settings, order_rate: float, read_rate: float) -> tuple[str, Stored]:
    """A minute of load, and what Redis held on average over it."""
    orders, reads = requests(settings)
    placed, read, stored = await asyncio.gather(
        open_loop("127.0.0.1", settings.port, orders, order_rate, 60, CONNECTIONS),
        open_loop("127.0.0.1", settings.port, reads, read_rate, 60, CONNECTIONS),
        stored_over(settings, 60),
    )
    load = (
        f"orders {placed.completed}/{placed.completed + placed.failed} ok "
        f"p99 {placed.percentile(99):.0f} ms {placed.statuses}; "
        f"reads p50 {read.percentile(50):.0f} ms p99 {read.percentile(99):.0f} ms"
    )
    return load, stored


async def stored_over(settings: Settings, seconds: float) -> Stored:
    """Redis's memory and the journal's length, averaged over `seconds` (one look every
    `STATUS_EVERY_S`): the journal grows between two snapshots and is trimmed at each, so a
    single look lands anywhere on that saw."""
    looks: list[Stored] = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.port}") as client:
        for _ in range(int(seconds / STATUS_EVERY_S)):
            status = (await client.get("/stampede/admin/status")).json()
            looks.append(
                Stored(status["redis_memory"]["used_bytes"] / 2**20, status["journal_length"])
            )
            await asyncio.sleep(STATUS_EVERY_S)
    return Stored(
        sum(look.redis_mb for look in looks) / len(looks),
        round(sum(look.journal_length for look in looks) / len(looks)),
    )


def sample(stored: Stored, pid: int, n: int) -> Sample:
    return Sample(
        n, stored.redis_mb, stored.journal_length, dict(rss_mb(each) for each in descendants(pid))
    )


def first_ack_s(settings: Settings) -> float:
    """Start the exchange on the run's data; seconds until an order is acknowledged."""
    account = AccountBook.from_settings(settings).traders[0]
    started = time.perf_counter()
    with exchange_process(settings):
        while True:
            target = signed_target("/fapi/v1/order", account, symbol="BTCUSDT", side="BUY",
                                   type="MARKET", quantity="0.001")  # fmt: skip
            answer = httpx.post(
                f"http://127.0.0.1:{settings.port}{target}",
                headers={"X-MBX-APIKEY": account.api_key},
            )
            if answer.status_code == 200:
                return time.perf_counter() - started
            time.sleep(0.05)


def growth_share(samples: list[Sample], value: str) -> float:
    """Growth over the second half of the run as a share of growth over the first."""
    series = [getattr(each, value) for each in samples]
    half = len(series) // 2
    first, second = series[half] - series[0], series[-1] - series[half]
    return second / first if first > 0 else float("inf") if second > 0 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--orders", type=float, default=100, help="orders per second")
    parser.add_argument("--reads", type=float, default=300, help="reads per second")
    parser.add_argument("--retention-s", type=int, default=60, help="finished orders kept")
    parser.add_argument("--snapshot-s", type=int, default=30, help="engine snapshot interval")
    parser.add_argument(
        "--accounts",
        type=int,
        default=25,
        help="accounts the load is spread over: few enough that each one's histories reach "
        "their bound in the run's first minutes",
    )
    parser.add_argument(
        "--history-rows",
        type=int,
        default=100,
        help="entries each history keeps (an account's orders, fills and income per symbol): "
        "small, so the bound is reached within the run; the exchange's default keeps 1,000",
    )
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory(prefix="stampede-soak-") as data:
        settings = Settings(
            port=free_port(),
            accounts=args.accounts,
            key_prefix="soak",
            rate_limits=False,
            redis_data_dir=Path(data),
            order_retention_ms=args.retention_s * 1000,
            snapshot_interval_ms=args.snapshot_s * 1000,
            history_rows=args.history_rows,
        )
        samples: list[Sample] = []
        with exchange_process(settings) as exchange:
            samples.append(
                sample(asyncio.run(stored_over(settings, STATUS_EVERY_S)), exchange.pid, 0)
            )
            for n in range(1, args.minutes + 1):
                load, stored = asyncio.run(minute(settings, args.orders, args.reads))
                samples.append(sample(stored, exchange.pid, n))
                each = samples[-1]
                rss = "  ".join(f"{name} {mb:.0f} MB" for name, mb in each.rss_mb.items())
                console.print(
                    f"min {n:2d}: Redis {each.redis_mb:6.1f} MB, journal "
                    f"{each.journal_length:7d} entries; {rss}; {load}"
                )
        restart_s = first_ack_s(settings)
    for label, value in (("Redis memory", "redis_mb"), ("journal length", "journal_length")):
        share = growth_share(samples, value)
        console.print(f"{label}: second half grew {share:.1%} of the first half's growth")
    for name in samples[1].rss_mb:
        series = [each.rss_mb.get(name, 0.0) for each in samples[1:]]
        console.print(f"{name}: RSS {series[0]:.0f} → {series[-1]:.0f} MB")
    console.print(f"[bold]restart from the run's end state: first ack after {restart_s:.1f} s")


if __name__ == "__main__":
    main()
