"""positionRisk reads/s through the full exchange (auth, read model, formatting) against a bare
FastAPI endpoint doing one Redis HGETALL, same machine, same run, same load generator.

Target: ratio ≥ 0.8. Run: .venv/bin/python benchmarks/position_reads.py
"""

from __future__ import annotations

import asyncio
import sys

from harness import bench_settings, process, signed_target
from loadgen import build_request, closed_loop
from rich.console import Console

from exchange_mock.accounts import AccountBook
from exchange_mock.redis_server import EmbeddedRedis, free_port
from exchange_mock.server import exchange_process, wait_until_serving

SECONDS = 5.0
CONNECTIONS = 32
ROUNDS = 2


def main() -> None:
    console = Console()
    with EmbeddedRedis() as redis:
        settings = bench_settings(redis.url)
        bare_port = free_port()
        bare_cmd = [sys.executable, "benchmarks/baselines/hgetall_app.py", str(bare_port),
                    redis.url, settings.key_prefix]  # fmt: skip
        with exchange_process(settings), process(bare_cmd):
            wait_until_serving(f"http://127.0.0.1:{bare_port}", "/bare/1")
            book = AccountBook.from_settings(settings)
            ours = [
                build_request("GET", signed_target("/fapi/v2/positionRisk", a), "bench",
                              {"X-MBX-APIKEY": a.api_key})
                for a in book.traders
            ]  # fmt: skip
            bare = [build_request("GET", f"/bare/{a.id}", "bench", {}) for a in book.traders]
            rates: dict[str, list[float]] = {"stampede": [], "bare": []}
            for _ in range(ROUNDS):
                for name, port, requests in (
                    ("stampede", settings.port, ours),
                    ("bare", bare_port, bare),
                ):
                    outcome = asyncio.run(
                        closed_loop("127.0.0.1", port, requests, CONNECTIONS, SECONDS)
                    )
                    if outcome.failed:
                        raise SystemExit(f"{name}: {outcome.statuses}")
                    rates[name].append(outcome.rate)
                    console.print(f"  {name:9} {outcome.rate:8.0f} req/s  "
                                  f"p50 {outcome.percentile(50):6.2f} ms  "
                                  f"p99 {outcome.percentile(99):6.2f} ms")  # fmt: skip
    ours_rate, bare_rate = max(rates["stampede"]), max(rates["bare"])
    console.print(f"positionRisk through the full server: {ours_rate:.0f} req/s")
    console.print(f"bare FastAPI + one HGETALL:           {bare_rate:.0f} req/s")
    console.print(f"[bold]ratio {ours_rate / bare_rate:.2f}[/bold] (target ≥ 0.80)")


if __name__ == "__main__":
    main()
