"""Stampede's users against Locust's bare FastHttpUser: requests per second per core of the load
generator, both at the same offered rate against the same venue that costs nothing
(`baselines/venue.py`), same machine, same run; and `wrk` as the machine's ceiling when it is on
PATH (Debian's `wrk` package): a load generator in C, as fast as it can go against the same
venue.

Per core = requests served in a measured window ÷ CPU seconds the load generator spent in it
(from /proc for Locust, from the reaped child's resource usage for wrk), so the figure does not
depend on how busy the machine's other cores are. Our
users pay for pacing, signing-free market-data calls, classification, HDR histograms and the
harness's own greenlets (shape, progress, feeds) on top of what the bare user does.

Target: ratio ≥ 0.8. Run: .venv/bin/python benchmarks/locust_users.py
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from harness import process
from rich.console import Console

from exchange_mock.redis_server import free_port

RATE = 2_000
"""Requests per second offered by each generator."""
USERS = 200
"""Senders in each generator: 10 requests/s each."""
WARMUP_S = 6.0
"""From launch to the window: Locust's start, the users' spawn, the first requests."""
WINDOW_S = 8.0
ROUNDS = 2
LOCUSTFILE = Path("loadtests/locustfile.py")
BARE_LOCUSTFILE = Path("benchmarks/baselines/locust_user.py")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Window:
    served: int
    cpu_s: float

    @property
    def rate(self) -> float:
        return self.served / WINDOW_S

    @property
    def per_core(self) -> float:
        return self.served / self.cpu_s


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def served(base: str) -> int:
    return int(httpx.get(f"{base}/__served").text)


def wait_for_venue(base: str, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            served(base)
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def measure(command: list[str], base: str) -> Window:
    """Launch a Locust, and count what the venue served and the CPU Locust spent in the window."""
    locust = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(WARMUP_S)
        count, cpu = served(base), cpu_seconds(locust.pid)
        time.sleep(WINDOW_S)
        window = Window(served(base) - count, cpu_seconds(locust.pid) - cpu)
    finally:
        locust.terminate()
        locust.wait(timeout=30)
    return window


def ours(base: str, work: Path, round_: int) -> list[str]:
    profile = work / "bench.yaml"
    duration = WARMUP_S + WINDOW_S + 10
    profile.write_text(
        "name: bench\ndescription: market data at a constant rate\ntime_scale: 1\n"
        f"baseline: {{orders: 0, queries: 0, market_data: {RATE}}}\n"
        f"phases:\n  - {{name: flat, duration_s: {duration}, "
        "multipliers: {orders: 1, queries: 1, market_data: 1}}\n"
    )
    return [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
        "--host", base, "-u", "1", "-r", "1", "--profile", str(profile),
        "--run-dir", str(work / f"run-{round_}"), "--probe-accounts", "0",
        "--expected-latency", str(USERS / RATE / 2),
    ]  # fmt: skip


def bare(base: str) -> list[str]:
    return [
        sys.executable, "-m", "locust", "-f", str(BARE_LOCUSTFILE), "--headless", "--only-summary",
        "--host", base, "-u", str(USERS), "-r", str(USERS), "--rate-per-user", str(RATE / USERS),
        "--run-time", str(int(WARMUP_S + WINDOW_S + 10)),
    ]  # fmt: skip


def children_cpu_seconds() -> float:
    """User and system CPU time of every child process reaped so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk_ceiling(base: str) -> Window | None:
    """wrk on one thread, 64 connections, for one window against the same venue; None without
    wrk. Its CPU is what the children reaped meanwhile used: wrk alone, the venue still runs."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    count, cpu = served(base), children_cpu_seconds()
    subprocess.run(
        [wrk, "-t1", "-c64", f"-d{WINDOW_S:.0f}s", f"{base}/fapi/v1/ping"],
        stdout=subprocess.DEVNULL, check=True,
    )  # fmt: skip
    return Window(served(base) - count, children_cpu_seconds() - cpu)


def main() -> None:
    console = Console()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    best: dict[str, Window] = {}
    with (
        process([sys.executable, "benchmarks/baselines/venue.py", str(port)]),
        tempfile.TemporaryDirectory() as tmp,
    ):
        wait_for_venue(base)
        for round_ in range(ROUNDS):
            for name, command in (
                ("stampede", ours(base, Path(tmp), round_)),
                ("bare", bare(base)),
            ):
                window = measure(command, base)
                console.print(f"  {name:9} {window.rate:7.0f} req/s  {window.cpu_s:5.2f} CPU s  "
                              f"{window.per_core:7.0f} req/s per core")  # fmt: skip
                if name not in best or window.per_core > best[name].per_core:
                    best[name] = window
        ceiling = wrk_ceiling(base)
    console.print(
        f"Stampede users (paced, measured): {best['stampede'].per_core:.0f} req/s per core"
    )
    console.print(f"bare FastHttpUser:                {best['bare'].per_core:.0f} req/s per core")
    ratio = best["stampede"].per_core / best["bare"].per_core
    console.print(f"[bold]ratio {ratio:.2f}[/bold] (target ≥ 0.80)")
    if ceiling is None:
        console.print("wrk is not on PATH: the machine's ceiling line is skipped")
    else:
        console.print(
            f"wrk, one thread (the machine's ceiling): {ceiling.rate:.0f} req/s, "
            f"{ceiling.per_core:.0f} req/s per core"
        )
        console.print(
            f"Stampede users per core ÷ wrk's: {best['stampede'].per_core / ceiling.per_core:.3f}"
        )


if __name__ == "__main__":
    main()
