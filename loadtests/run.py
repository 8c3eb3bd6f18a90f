"""`stampede run`: from nothing to a report in one command (or, with `--web-port`, to Locust's
web UI pointed at the embedded mock, where each run writes its own report).

With no target it starts a private Redis and the mock exchange (in processes of their own, so
the load generator measures the exchange and not a shared interpreter), with the crowd of
leveraged positions the profile names for its shocks to liquidate, runs Locust headless
with the profile, shows live progress from the run directory's `progress.json`, stops
everything, and leaves a run directory the report is built from. Ctrl-C stops the load early
and still leaves a usable, partial run directory.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO

import httpx
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import loadtests
from exchange_mock.accounts import AccountBook
from exchange_mock.lifetime import ends_with_us
from exchange_mock.redis_server import free_port, redis_url
from exchange_mock.server import exchange_process
from exchange_mock.settings import Crowd, Settings
from exchange_mock.symbols import SymbolTable
from loadtests.driver import AUDIT
from loadtests.options import CLIENT_IPS
from loadtests.profiles import ProfileError, load_profile
from loadtests.progress import Progress as RunProgress
from loadtests.progress import read_progress
from loadtests.run_set import run_directory, set_aside, write_plan

LOCUSTFILE = Path(loadtests.__file__).parent / "locustfile.py"
ACCOUNTS_FILE = "accounts.json"
SETTLE_TIMEOUT_S = 120.0
SETTLED_GAP = Decimal("0.002")
"""A book is settled once its mid is within 0.2% of its index: the makers' calm quoting."""


@dataclass(frozen=True)
class RunOptions:
    profile: str
    out: Path
    target: str | None = None
    time_scale: float | None = None
    phase_floor: float | None = None
    """Run seconds no phase is compressed below; the harness's default (15 s) when None."""
    baseline_scale: float = 1.0
    processes: int | None = None
    """Locust worker processes; None: one per core against a target, where this machine only
    generates load, and one against the embedded mock, which needs the other cores."""
    client_ips: int = CLIENT_IPS
    retry: str = "none"
    client_timeout: float | None = None
    """Seconds a client waits for an answer; the harness's default (5 s) when None."""
    accounts: int = 200
    accounts_file: Path | None = None
    api_workers: int | None = None
    """API worker processes: the embedded mock's (1 when None); recorded for any target."""
    web_port: int | None = None
    """Serve Locust's web UI on this loopback port, its host filled in, rather than run
    headless: runs start and stop there, and each writes its report as it ends."""

    @property
    def load_processes(self) -> int:
        if self.processes is not None:
            return self.processes
        if self.target is None:
            return 1
        return os.cpu_count() or 1

    @property
    def recorded_api_workers(self) -> int | None:
        """What the results say served the run: the embedded mock's count is always known."""
        return self.api_workers if self.target is not None else self.api_workers or 1


def genesis_crowd(profile: str) -> Crowd | None:
    """The crowd `profile` has the embedded mock open; a profile that does not load stops the
    run here, before anything starts."""
    try:
        return load_profile(profile).crowd
    except ProfileError as exc:
        raise SystemExit(str(exc)) from exc


def wait_until_settled(
    http: httpx.Client,
    symbols: Sequence[str],
    *,
    timeout_s: float = SETTLE_TIMEOUT_S,
    interval_s: float = 0.25,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Wait until the mock's read model has caught up with its journal and every book's mid is
    within `SETTLED_GAP` of its index; False if that has not happened within `timeout_s`.

    A crowd of thousands is tens of thousands of genesis events: until the projector has them,
    the makers quote around the last prices of the crowd's entries, up to a few percent away,
    and a profile that prices marks from the own book would start with a move no shock made."""
    deadline = clock() + timeout_s
    while not _settled(http, symbols):
        if clock() >= deadline:
            return False
        sleep(interval_s)
    return True


def _settled(http: httpx.Client, symbols: Sequence[str]) -> bool:
    try:
        if not http.get(AUDIT).json().get("quiet"):
            return False
        for symbol in symbols:
            book = http.get("/fapi/v1/depth", params={"symbol": symbol, "limit": 5}).json()
            index = Decimal(
                http.get("/fapi/v1/premiumIndex", params={"symbol": symbol}).json()["indexPrice"]
            )
            if not (book["bids"] and book["asks"]):
                return False
            mid = (Decimal(book["bids"][0][0]) + Decimal(book["asks"][0][0])) / 2
            if abs(mid / index - 1) > SETTLED_GAP:
                return False
    except httpx.HTTPError:
        return False
    return True


@contextmanager
def embedded_exchange(
    accounts: int, log: IO[bytes], crowd: Crowd | None = None, api_workers: int = 1
) -> Iterator[tuple[str, Settings]]:
    """Redis and the mock on free loopback ports, trusting this machine as a proxy so the
    harness can speak for many client IPs (X-Forwarded-For), as a venue behind a load balancer
    sees its clients; yielded once it has settled (`wait_until_settled`)."""
    wanted = Settings(
        redis_embedded=True,
        port=free_port(),
        accounts=accounts,
        trusted_proxies=frozenset({"127.0.0.1"}),
        crowd=crowd,
        api_workers=api_workers,
    )
    with redis_url(None, server=wanted.redis_server) as url:
        settings = wanted.model_copy(update={"redis_url": url})
        host = f"http://127.0.0.1:{settings.port}"
        symbols = [spec.symbol for spec in SymbolTable.load(settings.symbols_file).symbols]
        with exchange_process(settings, log), httpx.Client(base_url=host, timeout=5) as http:
            if not wait_until_settled(http, symbols):
                raise SystemExit(
                    f"the mock exchange did not settle within {SETTLE_TIMEOUT_S:.0f} s; "
                    f"see {log.name}"
                )
            yield host, settings


def write_accounts(path: Path, settings: Settings) -> None:
    """The mock's trader accounts in `stampede accounts --json` form, for the load generator."""
    book = AccountBook.from_settings(settings)
    rows = [
        {"id": a.id, "api_key": a.api_key, "secret": a.secret,
         "balance": str(a.initial_balance), "maker": a.is_maker}
        for a in book.traders
    ]  # fmt: skip
    path.write_text(json.dumps(rows, indent=2))


def locust_command(options: RunOptions, host: str, accounts_file: Path) -> list[str]:
    if options.web_port is None:
        mode = ["--headless", "--only-summary", "--loglevel", "WARNING"]
    else:
        mode = ["--web-host", "127.0.0.1", "--web-port", str(options.web_port)]
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *mode,
        "--host", host, "-u", "1", "-r", "1",
        "--profile", options.profile,
        "--run-dir", str(options.out),
        "--accounts-file", str(accounts_file),
        "--client-ips", str(options.client_ips),
        "--retry", options.retry,
        "--baseline-scale", str(options.baseline_scale),
    ]  # fmt: skip
    if options.time_scale is not None:
        command += ["--time-scale", str(options.time_scale)]
    if options.phase_floor is not None:
        command += ["--phase-floor", str(options.phase_floor)]
    if options.client_timeout is not None:
        command += ["--client-timeout", str(options.client_timeout)]
    if options.load_processes > 1:
        command += forked(options.load_processes)
    if options.recorded_api_workers is not None:
        command += ["--api-workers", str(options.recorded_api_workers)]
    return command


def forked(processes: int) -> list[str]:
    """Locust's options for a load forked into `processes` workers, whose master listens on a
    free loopback port: on Locust's default (every interface, 5557) a second run on the
    machine could not start, and the first was open to the network."""
    port = str(free_port())
    return [
        "--processes", str(processes), "--master-bind-host", "127.0.0.1",
        "--master-bind-port", port, "--master-port", port,
    ]  # fmt: skip


def run_load(options: RunOptions, console: Console) -> bool:
    """Run the profile into `options.out`; True when it ran to its end, False when Ctrl-C
    stopped it (the directory then holds a usable, partial run)."""
    interrupted = False
    options.out.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        host = options.target
        accounts_file = options.accounts_file
        if host is None:
            crowd = genesis_crowd(options.profile)
            exchange_log = stack.enter_context((options.out / "exchange.log").open("wb"))
            with console.status("starting Redis and the mock exchange…"):
                host, settings = stack.enter_context(
                    embedded_exchange(
                        options.accounts, exchange_log, crowd, options.api_workers or 1
                    )
                )
            accounts_file = options.out / ACCOUNTS_FILE
            write_accounts(accounts_file, settings)
            console.print(f"mock exchange at [bold]{host}[/bold]")
        if accounts_file is None:
            raise SystemExit("a target other than the embedded mock needs --accounts-file")
        log = stack.enter_context((options.out / "locust.log").open("w"))
        locust = subprocess.Popen(
            locust_command(options, host, accounts_file),
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=ends_with_us(),  # noqa: PLW1509 (prctl alone, see `ends_with_us`)
        )
        try:
            if options.web_port is None:
                _watch(locust, options.out, console)
            else:
                console.print(
                    f"Locust's web UI at [bold]http://127.0.0.1:{options.web_port}[/bold], "
                    f"the host filled in; each run's report is linked there. Ctrl-C to stop."
                )
                locust.wait()
        except KeyboardInterrupt:
            interrupted = True
            console.print("[yellow]interrupted: stopping the load, keeping what was measured")
            locust.send_signal(signal.SIGINT)
            locust.wait(timeout=60)
        if locust.returncode not in (0, 1):
            console.print(f"[red]locust exited with {locust.returncode}; see {log.name}")
    return not interrupted


def run_repeats(options: RunOptions, repeat: int, console: Console) -> Path:
    """Run the profile `repeat` times into one set of runs at `options.out` (see `run_set.py`),
    each against a fresh embedded mock (or the same target); return the directory to report
    on. Once is a plain run directory.

    Ctrl-C stops the whole set, not just the run it lands in: the runs that finished stay the
    set, and the one it stopped is set aside (`set_aside`). Stopped in the first run, there is
    no finished run to judge, so that partial run is what is reported on, as for a single run.
    """
    if repeat == 1:
        run_load(options, console)
        return options.out
    write_plan(options.out, repeat)
    for number in range(1, repeat + 1):
        console.print(f"run {number} of {repeat}")
        run = run_directory(options.out, number)
        try:
            finished = run_load(dataclasses.replace(options, out=run), console)
        except KeyboardInterrupt:  # while the mock started or stopped, outside the load
            finished = False
        if finished:
            continue
        if number == 1:
            return run
        set_aside(run)
        console.print(
            f"[yellow]the set stops after {number - 1} of {repeat} runs; its report covers those"
        )
        break
    return options.out


def _watch(locust: subprocess.Popen[bytes], run_dir: Path, console: Console) -> None:
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console
    )
    task = bar.add_task("starting", total=None)
    with Live(console=console, refresh_per_second=4) as live:
        while locust.poll() is None:
            progress = read_progress(run_dir)
            if progress is not None:
                bar.update(
                    task,
                    description=f"{progress.phase} (step {progress.step_index + 1})",
                    total=progress.duration_s or None,
                    completed=progress.elapsed_s,
                )
                live.update(_panel(bar, progress))
            else:
                live.update(bar)
            time.sleep(0.25)


def _panel(bar: Progress, progress: RunProgress) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_row(bar)
    rates = Table("class", "×", "offered /s", "achieved /s", "retries", box=None)
    for name, offered in progress.offered.items():
        rates.add_row(
            name,
            f"{progress.multipliers.get(name, 0):g}",
            f"{offered:.0f}",
            f"{progress.achieved.get(name, 0):.0f}",
            f"{progress.retries.get(name, 0)}",
        )
    grid.add_row(rates)
    errors = ", ".join(f"{k} {v}" for k, v in progress.errors.items() if v) or "none"
    stale = "–" if progress.stale_pct is None else f"{progress.stale_pct:.1f}%"
    lag = "–" if progress.feed_lag_p99_ms is None else f"{progress.feed_lag_p99_ms:.0f} ms"
    shown = "–" if progress.feed_completeness is None else f"{progress.feed_completeness:.0%}"
    grid.add_row(f"errors: {errors}   stale reads: {stale}   feed lag p99: {lag}   "
                 f"liquidations shown: {shown}   users: {progress.users}")  # fmt: skip
    return grid
