"""The real thing for the harness's integration tests: the mock exchange in processes of its
own, and headless Locust runs against it, each read back from its run directory."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from exchange_mock.accounts import AccountBook
from exchange_mock.redis_server import EmbeddedRedis, free_port
from exchange_mock.server import exchange_process
from exchange_mock.settings import Role, Settings
from loadtests.progress import read_progress
from loadtests.results import SETTINGS_FILE, RunResult, read_run
from loadtests.run import wait_until_settled

LOCUSTFILE = Path(__file__).parents[2] / "loadtests" / "locustfile.py"
RUN_TIMEOUT_S = 90


@dataclass(frozen=True)
class Target:
    """A mock exchange the harness can run against."""

    url: str
    settings: Settings
    accounts_file: Path
    processes: dict[str, subprocess.Popen[bytes]]
    """The exchange's processes by their roles, for tests that stall one."""


def _settings(redis_server: EmbeddedRedis, prefix: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "redis_url": redis_server.url,
        "key_prefix": prefix,
        "port": free_port(),
        "accounts": 40,
        "makers": 2,
        "maker_interval_ms": 200,
        "trusted_proxies": frozenset({"127.0.0.1"}),
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@contextmanager
def mock_exchange(
    redis_server: EmbeddedRedis,
    tmp_path: Path,
    *,
    apart: Sequence[Role] = (),
    **overrides: object,
) -> Iterator[Target]:
    """The mock with every role in one process, except those named in `apart`, which run in a
    process each (so a test can pause one of them with SIGSTOP)."""
    prefix = f"lt-{time.time_ns()}"
    settings = _settings(redis_server, prefix, **overrides)
    accounts_file = tmp_path / "accounts.json"
    book = AccountBook.from_settings(settings)
    rows = [{"id": a.id, "api_key": a.api_key, "secret": a.secret} for a in book.traders]
    accounts_file.write_text(json.dumps(rows))
    with ExitStack() as stack:
        processes = {}
        for role in apart:
            alone = settings.model_copy(update={"roles": frozenset({role})})
            processes[role.value] = stack.enter_context(exchange_process(alone))
        main = settings.model_copy(update={"roles": frozenset(Role) - set(apart)})
        processes["api"] = stack.enter_context(exchange_process(main))
        url = f"http://127.0.0.1:{settings.port}"
        with httpx.Client(base_url=url, timeout=5) as http:
            assert wait_until_settled(http, ("BTCUSDT", "ETHUSDT"), timeout_s=30), "unsettled"
        yield Target(url, settings, accounts_file, processes)


def profile_file(directory: Path, name: str, baseline: dict[str, float], phases: list[str]) -> Path:
    """A small profile; `phases` are YAML flow mappings, one per phase."""
    path = directory / f"{name}.yaml"
    lines = [
        f"name: {name}",
        "description: a short run for a test",
        "time_scale: 1",
        f"baseline: {json.dumps(baseline)}",
        "phases:",
        *(f"  - {phase}" for phase in phases),
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def locust_command(target: Target, profile: Path, run_dir: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE),
        "--headless", "--only-summary", "--host", target.url, "-u", "1", "-r", "1",
        "--profile", str(profile), "--run-dir", str(run_dir),
        "--accounts-file", str(target.accounts_file), *extra,
    ]  # fmt: skip


def run_locust(target: Target, profile: Path, run_dir: Path, *extra: str) -> RunResult:
    """One headless run to its end; its run directory as read back."""
    finished = subprocess.run(
        locust_command(target, profile, run_dir, *extra),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert finished.returncode in (0, 1), finished.stderr[-4000:]
    return read_run(run_dir)


def wait_for_origin(run_dir: Path, timeout_s: float = 30) -> float:
    """Run second 0 of a run that is starting, on this machine's clock (seconds since the
    epoch), once its settings are written (and whole)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            origin: float = json.loads((run_dir / SETTINGS_FILE).read_text())["origin"]
            return origin
        except (FileNotFoundError, ValueError):
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.05)


def sleep_until(when: float) -> None:
    time.sleep(max(0.0, when - time.time()))


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def progress_done(run_dir: Path) -> bool:
    progress = read_progress(run_dir)
    return progress is not None and progress.done
