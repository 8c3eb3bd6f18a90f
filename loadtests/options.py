"""The harness's options and the plan a run is made from.

Options are registered on Locust's parser (`register`), so they work on the command line, from
`LOCUST_*` environment variables and config files, and in the web UI's form alike. The surge
profile is Locust's own `--profile` option (the web UI's "Profile" field): Locust uses it only
as a label, and a second option of that name could not be registered.

When a run starts, the master (or the only process) reads the options once (`HarnessOptions`),
resolves them into a `RunPlan` (the profile as run, the accounts, the common time origin) and
hands the plan to the workers inside Locust's own spawn message, so every load generator works
from the same plan whatever its own command line or machine holds.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from loadtests.accounts import (
    DEFAULT_COUNT,
    DEFAULT_SEED,
    AccountPlan,
    read_accounts_file,
    seeded_accounts,
    split_probes,
)
from loadtests.hostload import GENERATOR_LAG_TOLERANCE_S
from loadtests.profiles import PerClass, Profile, RequestClass, Timeline, load_profile
from loadtests.results import LOCUST_CSV_PREFIX
from loadtests.users.retry import RetryMode

PLAN_ATTRIBUTE = "stampede_plan"
"""The attribute of Locust's parsed options that carries the plan (as JSON) to the workers:
Locust forwards every option it does not know with each spawn message."""
DEFAULT_RUNS_DIR = Path("runs")
DEFAULT_PHASE_FLOOR_S = 15.0
"""Run seconds no phase is compressed below: long enough for a queue to reach a steady state
(`Profile.phase_floor_s`)."""
CLIENT_IPS = 2_000
"""A cascade's queries come from thousands of clients, not sixteen: with few addresses the
per-IP weight limit bans the load before it can reach the engine and the projector. The default
for Locust's command line and web UI, and the demo's."""
CLIENT_TIMEOUT_S = 5.0
"""A trading client's patience in a cascade: ccxt waits 10 s by default, but bots and market
makers give up far sooner, and an answer after 5 s has already lost them. Compressed, the peak
minute's backlog drains in about ten seconds, so with ccxt's 10 s whether clients time out
depends on a second either way; at 5 s they do wherever the venue falls that far behind."""
MAX_CLIENT_IPS = 131_072
"""The size of 198.18.0.0/15, the range set aside for benchmarking, that addresses come from."""


class OptionsError(ValueError):
    """Options a run cannot start with; the message says which and why."""


class HarnessOptions(BaseModel):
    """Everything the harness adds to Locust's options, validated once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    profile: str = Field(min_length=1)
    time_scale: float | None = Field(default=None, gt=0)
    phase_floor: float = Field(default=DEFAULT_PHASE_FLOOR_S, ge=0)
    baseline_scale: float = Field(default=1.0, gt=0)
    run_dir: Path | None = None
    accounts_file: Path | None = None
    account_seed: str = DEFAULT_SEED
    accounts: int = Field(default=DEFAULT_COUNT, ge=1)
    probe_accounts: int = Field(default=2, ge=0)
    client_ips: int = Field(default=CLIENT_IPS, ge=0, le=MAX_CLIENT_IPS)
    retry: RetryMode = RetryMode.NONE
    client_timeout: float = Field(default=CLIENT_TIMEOUT_S, gt=0)
    expected_latency: float = Field(default=0.05, gt=0)
    symbols: tuple[str, ...] = Field(default=("BTCUSDT", "ETHUSDT"), min_length=1)
    ws_host: str | None = None
    admin_token: str | None = None
    probe_interval: float = Field(default=0.25, gt=0)
    api_workers: int | None = Field(default=None, ge=1)
    """API worker processes serving the target, when known: recorded, not acted on, so that
    `stampede report --scale-out` can place runs at several counts on one curve."""
    generator_lag_tolerance: float = Field(default=GENERATOR_LAG_TOLERANCE_S, gt=0)
    """Seconds the load may fall behind its schedule while senders are free before the report
    calls a step's latency and timeouts the generator's, not the venue's: recorded, for it."""

    @field_validator(
        "time_scale", "run_dir", "accounts_file", "ws_host", "admin_token", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """The web UI sends an empty field as an empty string."""
        return None if value == "" else value

    @field_validator("symbols", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip().upper() for part in value.split(",") if part.strip())
        return value


def _default(dest: str) -> Any:
    """An option's default as the web UI's form round-trips it: Locust converts what the form
    sends back with the type of the current value, so tuples and enums travel as text."""
    value = HarnessOptions.model_fields[dest].default
    if isinstance(value, tuple):
        return ",".join(value)
    return value.value if isinstance(value, RetryMode) else value


class _RunDirAction(argparse.Action):
    """`--run-dir DIR` also sends Locust's CSVs to DIR/locust unless `--csv` says otherwise."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, values)
        if getattr(namespace, "csv_prefix", None) is None and isinstance(values, str):
            namespace.csv_prefix = str(Path(values) / LOCUST_CSV_PREFIX)


def register(parser: Any) -> None:
    """Add the harness's options to Locust's parser (`init_command_line_parser`)."""

    def add(flag: str, help: str, **kwargs: Any) -> None:
        dest = flag.removeprefix("--").replace("-", "_")
        kwargs.setdefault("default", _default(dest))
        parser.add_argument(
            flag,
            dest=dest,
            help=f"[stampede] {help}",
            env_var=f"LOCUST_{dest.upper()}",
            include_in_web_ui=True,
            **kwargs,
        )

    add("--time-scale", "Event seconds per run second; the profile's own by default.", type=float)
    add(
        "--phase-floor",
        "Run seconds no phase is compressed below by the time scale (a shorter phase runs in "
        "real time); 0 for none.",
        type=float,
    )
    add(
        "--baseline-scale",
        "Multiply the profile's baseline rates, so a small machine or target can run it.",
        type=float,
    )
    add(
        "--run-dir",
        "Where the run's results go (Locust's CSVs too, unless --csv is given); "
        f"{DEFAULT_RUNS_DIR}/<profile>-<time> by default.",
        action=_RunDirAction,
    )
    add("--accounts-file", "Accounts to trade as, as `stampede accounts --json` prints them.")
    add("--account-seed", "Without --accounts-file: derive the mock's accounts from this seed.")
    add(
        "--accounts",
        "Without --accounts-file: how many of the mock's accounts to derive.",
        type=int,
    )
    add(
        "--probe-accounts",
        "Accounts set aside (from the end of the table) for read-your-writes probes.",
        type=int,
    )
    add(
        "--client-ips",
        "Speak for this many client addresses (X-Forwarded-For), as a venue behind a load "
        "balancer sees its clients; 0 sends none.",
        type=int,
    )
    add(
        "--retry",
        "What clients do after a failure: none, immediate, backoff (exponential, jittered), "
        "retry-after (as told, else backoff).",
        choices=[mode.value for mode in RetryMode],
    )
    add("--client-timeout", "Seconds a client waits for an answer.", type=float)
    add(
        "--expected-latency",
        "Seconds a request takes while the target keeps up: sizes the users (Little's law).",
        type=float,
    )
    add("--symbols", "Symbols to trade and read, comma-separated.")
    add("--ws-host", "WebSocket base URL for the feeds; derived from --host by default.")
    add("--admin-token", "Token for the mock's operator API, when it requires one.", is_secret=True)
    add(
        "--probe-interval",
        "Seconds between one probe's order-then-read cycles, and between its reads while an "
        "order is slow.",
        type=float,
    )
    add(
        "--api-workers",
        "API worker processes serving the target, recorded with the results for a scale-out "
        "fit over runs (`stampede report --scale-out`).",
        type=int,
    )
    add(
        "--generator-lag-tolerance",
        "Seconds the load may fall behind schedule with senders free (the generator short of "
        "CPU) before the report calls a step's latency and timeouts inconclusive.",
        type=float,
    )


def read_options(parsed: argparse.Namespace | None) -> HarnessOptions:
    """The harness's options from Locust's parsed options (command line, env or web UI)."""
    if parsed is None or not getattr(parsed, "profile", None):
        raise OptionsError("choose a surge profile with --profile (a shipped name or a file)")
    values = {name: getattr(parsed, name) for name in HarnessOptions.model_fields}
    return HarnessOptions.model_validate(values)


class RunPlan(BaseModel):
    """One run as every load generator must see it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    options: HarnessOptions
    profile: Profile
    """As run: its baseline scaled and its time scale resolved."""
    host: str
    ws_host: str
    origin: float
    """Seconds since the epoch at run second 0, on the master's clock."""
    workers: int = Field(ge=1)
    """Load generators sharing the schedule: 1 unless distributed."""
    accounts: AccountPlan
    run_dir: Path

    def timeline(self) -> Timeline:
        return self.profile.timeline()

    def settings(self) -> dict[str, JsonValue]:
        """What settings.json records: the options, and what the run resolved them to."""
        options = self.options.model_dump(mode="json", exclude={"admin_token"})
        return {
            **options,
            "run_dir": str(self.run_dir),
            "host": self.host,
            "ws_host": self.ws_host,
            "time_scale": self.profile.time_scale,
            "workers": self.workers,
            "origin": self.origin,
            "traders": len(self.accounts.traders),
            "probes": len(self.accounts.probes),
        }


def scaled_profile(
    profile: Profile,
    *,
    baseline_scale: float,
    time_scale: float | None,
    phase_floor: float = DEFAULT_PHASE_FLOOR_S,
) -> Profile:
    """The profile as it will run: baseline rates times `baseline_scale`, at `time_scale` (its
    own when None), no phase shorter than `phase_floor` run seconds."""
    baseline = PerClass.model_validate(
        {klass.value: profile.baseline.of(klass) * baseline_scale for klass in RequestClass}
    )
    scale = profile.time_scale if time_scale is None else time_scale
    return Profile.model_validate(
        {
            **profile.model_dump(),
            "baseline": baseline.model_dump(),
            "time_scale": scale,
            "phase_floor_s": phase_floor,
        }
    )


def websocket_base(host: str) -> str:
    """The WebSocket URL base that goes with an HTTP one (same host and port)."""
    for http, ws in (("https://", "wss://"), ("http://", "ws://")):
        if host.startswith(http):
            return ws + host.removeprefix(http).rstrip("/")
    raise OptionsError(f"--host {host!r} is not an http:// or https:// URL")


def plan_run(options: HarnessOptions, *, host: str | None, workers: int, origin: float) -> RunPlan:
    """Resolve the options: load the profile, read or derive the accounts, name the run
    directory. Raises `OptionsError` (or the profile's or accounts' own errors) on bad input."""
    if not host:
        raise OptionsError("give the target's base URL with --host")
    profile = scaled_profile(
        load_profile(options.profile),
        baseline_scale=options.baseline_scale,
        time_scale=options.time_scale,
        phase_floor=options.phase_floor,
    )
    if options.accounts_file is not None:
        accounts = read_accounts_file(options.accounts_file)
    else:
        accounts = seeded_accounts(options.account_seed, options.accounts)
    run_dir = options.run_dir
    if run_dir is None:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(origin))
        run_dir = DEFAULT_RUNS_DIR / f"{profile.name}-{stamp}"
    return RunPlan(
        options=options,
        profile=profile,
        host=host.rstrip("/"),
        ws_host=(options.ws_host or websocket_base(host)).rstrip("/"),
        origin=origin,
        workers=workers,
        accounts=split_probes(accounts, options.probe_accounts),
        run_dir=run_dir,
    )
