"""Acknowledged orders/s through the full pipeline (HTTP → auth → orders stream → engine →
journal → reply) against the same server's bare HTTP floor (`/fapi/v1/ping`), then the ack
latency at half the maximum rate, measured from each request's intended send time.

Run: .venv/bin/python benchmarks/order_pipeline.py
"""

from __future__ import annotations

import asyncio

from harness import bench_settings, signed_target
from loadgen import build_request, closed_loop, open_loop
from rich.console import Console

from exchange_mock.accounts import AccountBook
from exchange_mock.redis_server import EmbeddedRedis
from exchange_mock.server import exchange_process

SECONDS = 5.0
CONNECTIONS = 64


def main() -> None:
    console = Console()
    with EmbeddedRedis() as redis:
        # No market makers: the book is empty, so each IOC order is accepted, journaled and
        # expires — the whole write path, with no position piling up over the run.
        settings = bench_settings(redis.url)
        with exchange_process(settings):
            book = AccountBook.from_settings(settings)
            orders = [
                build_request(
                    "POST",
                    signed_target("/fapi/v1/order", a, symbol="BTCUSDT", side=side,
                                  type="LIMIT", timeInForce="IOC", quantity="0.001",
                                  price="122500.0"),
                    "bench",
                    {"X-MBX-APIKEY": a.api_key},
                )
                for a in book.traders
                for side in ("BUY", "SELL")
            ]  # fmt: skip
            ping = [build_request("GET", "/fapi/v1/ping", "bench", {})]
            floor = asyncio.run(closed_loop("127.0.0.1", settings.port, ping, CONNECTIONS, SECONDS))
            peak = asyncio.run(
                closed_loop("127.0.0.1", settings.port, orders, CONNECTIONS, SECONDS)
            )
            if peak.failed:
                raise SystemExit(f"orders failed: {peak.statuses}")
            half = asyncio.run(
                open_loop("127.0.0.1", settings.port, orders, peak.rate / 2, SECONDS, CONNECTIONS)
            )
    console.print(f"HTTP floor (ping):            {floor.rate:8.0f} req/s")
    console.print(f"acknowledged orders, maximum: {peak.rate:8.0f} orders/s  "
                  f"[bold]ratio to floor {peak.rate / floor.rate:.2f}[/bold]")  # fmt: skip
    console.print(
        f"at half that rate ({peak.rate / 2:.0f}/s, open model): "
        f"p50 {half.percentile(50):.2f} ms  p99 {half.percentile(99):.2f} ms  "
        f"({half.completed} acked, {half.failed} failed)"
    )


if __name__ == "__main__":
    main()
