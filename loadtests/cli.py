"""`stampede`: one command line for the exchange mock, the load tests and the report."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from exchange_mock import cli as exchange_cli
from loadtests.demo import run_demo
from loadtests.profiles import load_profile
from loadtests.report import cli as report_cli
from loadtests.run import RunOptions, run_repeats

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
DEMO_CLIENT_IPS = 2_000
"""A cascade's queries come from thousands of clients, not sixteen: with few addresses the
per-IP weight limit bans the load before it can reach the engine and the projector."""
DEMO_BASELINE_SCALE = 3.0
"""Compressed to three minutes, the peak minute lasts seconds; a larger baseline lets a
two-core machine reach the loads where its queues build within that time."""
DEMO_CLIENT_TIMEOUT_S = 5.0
"""A trading client's patience in a cascade: ccxt waits 10 s by default, but bots and market
makers give up far sooner, and an answer after 5 s has already lost them. Compressed, the peak
minute's backlog drains in about ten seconds, so with ccxt's 10 s whether the demo's clients time
out depends on a second either way; at 5 s they do wherever the venue falls that far behind."""
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
    client_ips: Annotated[int, typer.Option(help="Client IPs the load speaks for.")] = 16,
    retry: Annotated[
        str, typer.Option(help="On errors: none, immediate, backoff or retry-after.")
    ] = "none",
    client_timeout: Annotated[
        float | None,
        typer.Option(min=0.1, help="Seconds a client waits for an answer (10, as ccxt, if none)."),
    ] = None,
    accounts_file: Annotated[
        Path | None, typer.Option(help="Accounts (as `stampede accounts --json`) of the target.")
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
        baseline_scale=baseline_scale,
        processes=processes,
        client_ips=client_ips,
        retry=retry,
        client_timeout=client_timeout,
        accounts_file=accounts_file,
        api_workers=api_workers,
    )
    run_dir = run_repeats(options, repeat, Console())
    report_cli.report(run_dir, slo=slo, out=None, fail_on_slo=fail_on_slo)


@app.command()
def demo() -> None:
    """The October 2025 cascade, compressed to about three minutes, against the embedded mock."""
    duration = load_profile(DEMO_PROFILE).timeline(1.0).duration
    run(
        DEMO_PROFILE,
        time_scale=duration / DEMO_SECONDS,
        client_ips=DEMO_CLIENT_IPS,
        baseline_scale=DEMO_BASELINE_SCALE,
        api_workers=DEMO_API_WORKERS,
        client_timeout=DEMO_CLIENT_TIMEOUT_S,
    )


@app.command("ccxt-demo")
def ccxt_demo() -> None:
    """Start the embedded exchange, trade on it with an unmodified ccxt client, print, stop."""
    run_demo(Console())


def main() -> None:
    app()
