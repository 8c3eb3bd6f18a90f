"""`stampede`: one command line for the exchange mock, the load tests and the report."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from exchange_mock import cli as exchange_cli
from loadtests.demo import run_demo
from loadtests.options import CLIENT_IPS, CLIENT_TIMEOUT_S
from loadtests.profiles import load_profile
from loadtests.report import cli as report_cli
from loadtests.run import RunOptions, run_load, run_repeats

app = typer.Typer(
    name="stampede",
    help="Load-test exchange infrastructure with cascade-style surges.",
    no_args_is_help=True,
    add_completion=False,
)
exchange_cli.register(app)
report_cli.register(app)

DEMO_PROFILE = "oct-2025"
DEMO_SECONDS = 180.0
"""The cascade's length at the demo's time scale. Its peak minute, 1.6 s at that scale, is held
at the phase floor (15 s), so the load runs 193 s: with the mock's start and the report, a
fresh clone still reaches its report within five minutes."""
DEMO_BASELINE_SCALE = 3.0
"""Compressed to three minutes, the peak minute lasts the phase floor's 15 s; a larger baseline
lets a two-core machine reach the loads where its queues build within that time."""
DEMO_API_WORKERS = 2
"""The API tier scales out (its workers are stateless) while the engine and the projector are
single writers: with one worker the API is the first wall on a small machine and hides them;
with two, the demo shows where a scaled-out API meets the projector and the engine queue."""


def _default_out(profile: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{Path(profile).stem}-{stamp}"


@app.command()
def run(
    profile: Annotated[str, typer.Argument(help="A shipped profile name or a YAML file.")],
    target: Annotated[
        str | None, typer.Option(help="Base URL of a Binance-compatible venue; the mock if none.")
    ] = None,
    time_scale: Annotated[
        float | None, typer.Option(help="Run this many times faster than the profile's clock.")
    ] = None,
    phase_floor: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Run seconds no phase is compressed below (15 unless given; 0 for none).",
        ),
    ] = None,
    slo: Annotated[Path | None, typer.Option(help="SLO thresholds (YAML).")] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory; runs/<profile>-<time>.")] = None,
    fail_on_slo: Annotated[bool, typer.Option(help="Exit 1 when an SLO is broken.")] = False,
    processes: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Locust worker processes: one per core against a --target, one beside the "
            "embedded mock (which needs the other cores) unless given.",
        ),
    ] = None,
    baseline_scale: Annotated[
        float, typer.Option(help="Multiply the profile's baseline rates.")
    ] = 1.0,
    client_ips: Annotated[
        int, typer.Option(help="Client IPs the load speaks for (X-Forwarded-For).")
    ] = CLIENT_IPS,
    retry: Annotated[
        str, typer.Option(help="On errors: none, immediate, backoff or retry-after.")
    ] = "none",
    client_timeout: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            help=f"Seconds a client waits for an answer ({CLIENT_TIMEOUT_S:g}, a trading "
            "client's patience in a cascade, if none).",
        ),
    ] = None,
    accounts_file: Annotated[
        Path | None, typer.Option(help="Accounts (as `stampede accounts --json`) of the target.")
    ] = None,
    web_port: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=65_535,
            help="Serve Locust's web UI on this loopback port (its host filled in) instead of "
            "running headless; each run started there writes its report as it ends.",
        ),
    ] = None,
    api_workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="API worker processes: the embedded mock starts this many; for a --target, "
            "how many serve it. Recorded for `stampede report --scale-out`.",
        ),
    ] = None,
    repeat: Annotated[
        int,
        typer.Option(
            min=1,
            help="Run the profile this many times (each against a fresh embedded mock) into "
            "one set directory; the report pools them and says how many runs agree.",
        ),
    ] = 1,
) -> None:
    """Run a profile against the target (or the embedded mock) and write the report."""
    options = RunOptions(
        profile=profile,
        out=out or _default_out(profile),
        target=target,
        time_scale=time_scale,
        phase_floor=phase_floor,
        baseline_scale=baseline_scale,
        processes=processes,
        client_ips=client_ips,
        retry=retry,
        client_timeout=client_timeout,
        accounts_file=accounts_file,
        api_workers=api_workers,
        web_port=web_port,
    )
    if web_port is not None:
        # Runs start and stop in the web UI, each writing its own report as it ends.
        run_load(options, Console())
        return
    run_dir = run_repeats(options, repeat, Console())
    report_cli.report(run_dir, slo=slo, out=None, fail_on_slo=fail_on_slo)


@app.command()
def demo() -> None:
    """The October 2025 cascade, compressed to about three minutes, against the embedded mock."""
    duration = load_profile(DEMO_PROFILE).timeline(1.0).duration
    run(
        DEMO_PROFILE,
        time_scale=duration / DEMO_SECONDS,
        baseline_scale=DEMO_BASELINE_SCALE,
        api_workers=DEMO_API_WORKERS,
        client_timeout=CLIENT_TIMEOUT_S,
    )


@app.command("ccxt-demo")
def ccxt_demo() -> None:
    """Start the embedded exchange, trade on it with an unmodified ccxt client, print, stop."""
    run_demo(Console())


def main() -> None:
    app()
