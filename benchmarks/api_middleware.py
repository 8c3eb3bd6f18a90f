"""What does the edge middleware cost a request? The same endpoints on three API processes over
one engine and one Redis, in one run, with the same load generator:

- `edge + limits`: the API as shipped, rate limits enforced (one Redis round trip per request);
- `edge, no limits`: the middleware without the rate limiter (`rate_limits=False`): the cost
  of the concurrency cap, the fault checks and the header plumbing alone;
- `no edge`: the same app with the middleware removed.

Requests come from thousands of client IPs (X-Forwarded-For), so none is refused: this is the
cost of admission itself. For each endpoint it prints requests/s (each API process is one
Python process on one core, saturated), p50 and p99 latency, the ratio of each variant to
`no edge`, and the added cost per request in microseconds (1/rate − 1/baseline rate).

Run: .venv/bin/python benchmarks/api_middleware.py
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from harness import bench_settings, signed_target
from loadgen import Outcome, build_request, closed_loop
from rich.console import Console
from rich.table import Table

from exchange_mock.accounts import AccountBook
from exchange_mock.redis_server import EmbeddedRedis, free_port
from exchange_mock.server import exchange_process, settings_env, wait_until_serving
from exchange_mock.settings import Role, Settings

SECONDS = 3.0
CONNECTIONS = 32
ROUNDS = 2
"""Variants take turns; each figure is the best of its rounds."""
IPS = 4_096
BASELINE = "no edge"


def client_ip(n: int) -> str:
    return f"10.{n // 65_536 % 256}.{n // 256 % 256}.{n % 256}"


def requests(settings: Settings) -> dict[str, list[bytes]]:
    """Per endpoint, requests from `IPS` client IPs, each signed for its account."""
    traders = AccountBook.from_settings(settings).traders
    ping, positions = [], []
    for n in range(IPS):
        forwarded = {"X-Forwarded-For": client_ip(n)}
        account = traders[n % len(traders)]
        ping.append(build_request("GET", "/fapi/v1/ping", "bench", forwarded))
        positions.append(
            build_request("GET", signed_target("/fapi/v2/positionRisk", account), "bench",
                          {**forwarded, "X-MBX-APIKEY": account.api_key})
        )  # fmt: skip
    return {"GET /fapi/v1/ping": ping, "GET /fapi/v2/positionRisk": positions}


@contextmanager
def edge_free(settings: Settings) -> Iterator[None]:
    """`benchmarks/baselines/edge_free_app.py` serving with `settings`."""
    child = subprocess.Popen(
        [sys.executable, "benchmarks/baselines/edge_free_app.py"],
        env={**os.environ, **settings_env(settings)},
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{settings.port}")
        yield
    finally:
        child.terminate()
        child.wait(timeout=15)


def measure(variants: dict[str, Settings]) -> dict[str, dict[str, Outcome]]:
    """Per endpoint and variant, the best of `ROUNDS` closed-loop runs."""
    best: dict[str, dict[str, Outcome]] = {}
    for endpoint, batch in requests(next(iter(variants.values()))).items():
        best[endpoint] = {}
        for _ in range(ROUNDS):
            for name, settings in variants.items():
                outcome = asyncio.run(
                    closed_loop("127.0.0.1", settings.port, batch, CONNECTIONS, SECONDS)
                )
                if outcome.failed:
                    raise SystemExit(f"{name} {endpoint}: {outcome.statuses}")
                if name not in best[endpoint] or outcome.rate > best[endpoint][name].rate:
                    best[endpoint][name] = outcome
    return best


def report(results: dict[str, dict[str, Outcome]]) -> None:
    console = Console()
    table = Table(
        "endpoint", "variant", "requests/s", "p50 ms", "p99 ms", "× no edge", "added µs/request",
        title=f"edge middleware cost: {CONNECTIONS} connections, {SECONDS:.0f} s per run, "
        f"best of {ROUNDS} interleaved rounds",
    )  # fmt: skip
    for endpoint, outcomes in results.items():
        base = outcomes[BASELINE]
        for name, outcome in outcomes.items():
            added = 1e6 / outcome.rate - 1e6 / base.rate
            table.add_row(
                endpoint, name, f"{outcome.rate:,.0f}", f"{outcome.percentile(50):.2f}",
                f"{outcome.percentile(99):.2f}", f"{outcome.rate / base.rate:.2f}",
                "" if outcome is base else f"{added:+.0f}",
            )  # fmt: skip
    console.print(table)
    for endpoint, outcomes in results.items():
        ratio = outcomes["edge + limits"].rate / outcomes[BASELINE].rate
        console.print(f"[bold]{endpoint}: with the edge / without = {ratio:.2f}[/bold]")


def main() -> None:
    with EmbeddedRedis() as redis:
        base = bench_settings(redis.url).model_copy(
            update={"trusted_proxies": frozenset({"127.0.0.1"})}
        )
        api = frozenset({Role.API})
        variants = {
            "edge + limits": base.model_copy(
                update={"roles": api, "port": free_port(), "rate_limits": True}
            ),
            "edge, no limits": base.model_copy(update={"roles": api, "port": free_port()}),
            BASELINE: base.model_copy(update={"roles": api, "port": free_port()}),
        }
        with ExitStack() as running:
            running.enter_context(
                exchange_process(base.model_copy(update={"roles": frozenset(Role) - api}))
            )
            for name, settings in variants.items():
                starts = edge_free if name == BASELINE else exchange_process
                running.enter_context(starts(settings))
            results = measure(variants)
    report(results)


if __name__ == "__main__":
    main()
