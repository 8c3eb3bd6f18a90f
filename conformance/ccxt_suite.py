"""ccxt's own test suite for `binanceusdm`, run against the mock (or any Binance-compatible
target): the conformance bar a venue that real bots trade on has to clear.

ccxt ships the live tests its maintainers run against every exchange (`ccxt/test/`). They refuse
to run from site-packages, and read their credentials, URL overrides and skips from files beside
the package, so the installed, pinned package is copied once into the build directory and those
files are written next to it:

    build/conformance/
      suite/ccxt/            the installed ccxt package, copied (per version)
      keys.local.json        URL overrides: futures calls to the target, spot-side calls to a
                             closed local port (a futures venue serves no `sapi`)
      skip-tests.json        the methods `scope.yaml` takes out, with their reasons
      logs/<method>.log      each method's own output
      ccxt-binanceusdm.md    the table printed at the end

The suite is asked once which methods it would test (public, private and funded: orders are
placed, fetched and cancelled), then each method runs in a process of its own, as ccxt's CI runs
them, each with an account of its own so that no two methods share orders or positions. A method
passes when the suite finishes it; it fails on a `[TEST_FAILURE]`, a `[TEST_WARNING]` (ccxt's word
for a method it could not test: a missing route, a network error), or a process that dies. The
run exits non-zero on any failure of an in-scope method.

    python -m conformance.ccxt_suite                          # against a fresh embedded mock
    python -m conformance.ccxt_suite --target URL --api-key K --secret S
    python -m conformance.ccxt_suite --method fetchTicker --method createOrder
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import ccxt
import httpx
import yaml
from pydantic import BaseModel, ConfigDict
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from exchange_mock.accounts import AccountBook
from exchange_mock.redis_server import EmbeddedRedis, free_port
from exchange_mock.server import exchange_process
from exchange_mock.settings import Settings

EXCHANGE = "binanceusdm"
SYMBOL = "BTC/USDT:USDT"
SCOPE_FILE = Path(__file__).with_name("scope.yaml")
BUILD_DIR = Path("build/conformance")
TABLE_FILE = f"ccxt-{EXCHANGE}.md"
METHOD_TIMEOUT_S = 180.0
"""A method's process gets this long: ccxt retries network failures three times with growing
waits, so a dead route takes tens of seconds to be reported, not minutes."""
DISCOVERY_METHOD = "features"
"""Naming one cheap method makes the suite list every other one as ignored: the list to run.
(A name without a test of its own would be ignored, and the whole suite would run.)"""
FUTURES_APIS = ("fapiPublic", "fapiPrivate", "fapiData")
"""ccxt's URL keys for the USDⓈ-M futures API; their versioned variants follow them."""
NO_CACHE = shutil.ignore_patterns("__pycache__")
OPTIONS = {"fetchCurrencies": False}
"""loadMarkets with keys would read the spot wallet's coin list (`sapi`) first: out of scope."""
ACCOUNTS = 80
"""Trader accounts the embedded mock funds: one per method, with room to spare."""


class Scope(BaseModel):
    """`scope.yaml`: the methods the run does not hold the target to, each with its reason."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    out_of_scope: dict[str, str]
    ccxt_defects: dict[str, str]

    @property
    def skipped(self) -> dict[str, str]:
        return {**self.out_of_scope, **self.ccxt_defects}


class Outcome(StrEnum):
    PASSED = "pass"
    FAILED = "fail"
    WARNED = "warning"
    SKIPPED = "skipped"
    """The suite skipped it: `scope.yaml`, or ccxt itself (unsupported or untestable)."""


@dataclass(frozen=True)
class Result:
    method: str
    outcome: Outcome
    detail: str

    @property
    def broken(self) -> bool:
        return self.outcome in (Outcome.FAILED, Outcome.WARNED)


@dataclass(frozen=True)
class Credentials:
    api_key: str
    secret: str


@dataclass(frozen=True)
class Target:
    url: str
    credentials: tuple[Credentials, ...]
    """Handed out one per method, round robin: a target with one account shares it."""

    def credentials_for(self, index: int) -> Credentials:
        return self.credentials[index % len(self.credentials)]


def load_scope(path: Path = SCOPE_FILE) -> Scope:
    return Scope.model_validate(yaml.safe_load(path.read_text()))


def lay_out_suite(root: Path) -> Path:
    """The installed ccxt package under `root/suite`: its test folder copied, the rest linked.
    The suite reads its settings from the folder three levels above its own, so each root has
    its own copy of the tests and its own settings beside it; returns the directory to put
    first on the suite's PYTHONPATH."""
    installed = Path(ccxt.__file__).parent
    suite = root / "suite"
    stamp = suite / "VERSION"
    if not stamp.exists() or stamp.read_text() != ccxt.__version__:
        shutil.rmtree(suite, ignore_errors=True)
        package = suite / "ccxt"
        package.mkdir(parents=True)
        for child in installed.iterdir():
            if child.name == "test":
                shutil.copytree(child, package / "test", ignore=NO_CACHE)
            elif child.name != "__pycache__":
                (package / child.name).symlink_to(child)
        stamp.write_text(ccxt.__version__)
    return suite


def url_overrides(base: str, closed: str) -> dict[str, str]:
    """Every API ccxt's binanceusdm knows: the futures ones on the target, the rest on a port
    nothing listens on, so a spot-side call fails at once instead of reaching Binance."""
    urls: dict[str, str] = ccxt.binanceusdm().urls["api"]
    overrides = {}
    for key, url in urls.items():
        if key.startswith(FUTURES_APIS):
            path = re.sub(r"^https?://[^/]+", "", url)
            overrides[key] = base.rstrip("/") + path
        else:
            overrides[key] = closed
    return overrides


@dataclass(frozen=True)
class Runner:
    """One place the suite runs from: its copy, its settings and its account. Methods run one
    at a time per runner, so no two share an account's orders at once."""

    suite: Path

    @classmethod
    def prepare(
        cls, root: Path, url: str, credentials: Credentials, skips: Mapping[str, str]
    ) -> Runner:
        root.mkdir(parents=True, exist_ok=True)
        suite = lay_out_suite(root)
        closed = f"http://127.0.0.1:{free_port()}"
        settings = {
            "apiKey": credentials.api_key,
            "secret": credentials.secret,
            "urls": {"api": url_overrides(url, closed)},
            "options": OPTIONS,
        }
        (root / "keys.local.json").write_text(json.dumps({EXCHANGE: settings}, indent=2))
        skipped = {EXCHANGE: {"skipMethods": dict(skips)}}
        (root / "skip-tests.json").write_text(json.dumps(skipped, indent=2))
        return cls(suite)

    def has_test(self, method: str) -> bool:
        """Whether the suite has a test for `method`: named alone without one, the suite would
        ignore the name and run every method."""
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", method).lower().replace("o_h_l_c_v", "ohlcv")
        return (self.suite / "ccxt" / "test" / "exchange" / "async" / f"test_{snake}.py").exists()

    def run(self, method: str) -> tuple[int | None, str]:
        """One method in a process of its own: its exit code (None when it ran out of time)
        and everything it printed. The copy goes first on the path: the suite refuses to test
        the installed package."""
        command = [
            sys.executable,
            str(self.suite / "ccxt" / "test" / "tests_init.py"),
            EXCHANGE,
            f"{method}()",
            "--private",
            "--fundedTests",
            "--info",
        ]
        try:
            done = subprocess.run(
                command,
                env={**os.environ, "PYTHONPATH": str(self.suite)},
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=METHOD_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as expired:
            output = expired.stdout or ""
            return None, output if isinstance(output, str) else output.decode(errors="replace")
        return done.returncode, done.stdout + done.stderr


def listed_methods(output: str) -> list[str]:
    """The methods a run naming one method reported as ignored, in the suite's order."""
    methods = re.findall(rf"\[INFO\] IGNORED_TEST\s+{EXCHANGE} (\w+)", output)
    return list(dict.fromkeys(methods))


_SKIP = re.compile(rf"\[INFO\] (SKIPPED|UNSUPPORTED|UNIMPLEMENTED)_TEST\s+{EXCHANGE} (\w+)")


def classify(method: str, code: int | None, output: str, scope: Scope) -> Result:
    """What one method's run says about the target. The suite reports loadMarkets' failure as
    its own, whatever method was asked for: that fails the method too."""
    lines = output.splitlines()
    for marker, outcome in (("[TEST_FAILURE]", Outcome.FAILED), ("[TEST_WARNING]", Outcome.WARNED)):
        found = [i for i, line in enumerate(lines) if line.startswith(marker)]
        named = [i for i in found if "Failed methods" not in lines[i]]
        if found:
            return Result(method, outcome, _detail(lines, (named or found)[0]))
    for kind, name in _SKIP.findall(output):
        if name == method:
            reason = scope.skipped.get(method, f"ccxt: {kind.lower()} for {EXCHANGE}")
            return Result(method, Outcome.SKIPPED, reason)
    if f"NOT_SUPPORTED {EXCHANGE} {method}" in output:
        return Result(method, Outcome.SKIPPED, "ccxt: not supported with the suite's arguments")
    if code is None:
        return Result(method, Outcome.FAILED, f"no answer within {METHOD_TIMEOUT_S:.0f} s")
    if code != 0:
        return Result(method, Outcome.FAILED, f"exit {code}: {_short(_last_line(output))}")
    if re.search(rf"TESTING DONE\s+{EXCHANGE} {method}\b", output):
        return Result(method, Outcome.PASSED, "")
    return Result(method, Outcome.FAILED, "the suite never reported the method as tested")


_ERROR_LINE = re.compile(r"^\w*(Error|Exception|Invalid\w*|NotFound|Insufficient\w*)\b.*: ")
_LAST_URL = re.compile(r"\(Last url: (?:https?://[^/\s]+)?([^?\s]*)\S*\s*\)\s*")


def _detail(lines: Sequence[str], index: int) -> str:
    """A failure as a reader wants it: the path it last called, what the suite said, and the
    exception its traceback ends in (the marker, arguments and signed query left out)."""
    head = lines[index].split(" Traceback (most recent call last)")[0]
    said = head.split("(Last url:")[-1] if "(Last url:" in head else head
    url = _LAST_URL.search(head)
    said = _LAST_URL.sub("", "(Last url:" + said) if url else said
    tail = next((line for line in lines[index + 1 :] if _ERROR_LINE.match(line)), "")
    where = f"{url.group(1)}: " if url and url.group(1) else ""
    return _short(f"{where}{said} {tail}".strip())


def _last_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def _short(line: str, limit: int = 240) -> str:
    flat = " ".join(line.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


LOAD_MARKETS = "loadMarkets"
UNTESTED = "ccxt: the suite has no test for it"
LOAD_MARKETS_SKIP = "its own check failed (see its row); skipped so the other methods are tested"


def conformance(
    target: Target, build: Path, scope: Scope, only: Sequence[str], jobs: int
) -> list[Result]:
    """Every method the suite tests (or those in `only`), one process each, `jobs` at a time,
    each runner with an account of its own.

    The suite checks the markets before any method and stops when that check fails; it is then
    reported as failed and skipped, so one wrong market does not hide every other finding."""
    logs = build / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)

    def prepare(skips: Mapping[str, str]) -> list[Runner]:
        return [
            Runner.prepare(build / "runners" / str(n), target.url, target.credentials_for(n), skips)
            for n in range(jobs)
        ]

    def discover(runner: Runner) -> tuple[int | None, str]:
        code, output = runner.run(DISCOVERY_METHOD)
        (logs / "discovery.log").write_text(output)
        return code, output

    runners = prepare(scope.skipped)
    code, output = discover(runners[0])
    load_markets = classify(LOAD_MARKETS, code, output, scope)
    results = [load_markets]
    if load_markets.broken:
        runners = prepare({**scope.skipped, LOAD_MARKETS: LOAD_MARKETS_SKIP})
        code, output = discover(runners[0])
    methods = [DISCOVERY_METHOD, *listed_methods(output)]
    if code != 0 or len(methods) == 1:
        return results if load_markets.broken else [classify(LOAD_MARKETS, code, output, scope)]
    if only:
        methods = [method for method in methods if method in only]
    untested = [method for method in methods if not runners[0].has_test(method)]
    results += [Result(method, Outcome.SKIPPED, UNTESTED) for method in untested]
    methods = [method for method in methods if method not in untested]
    pending: queue.SimpleQueue[str] = queue.SimpleQueue()
    for method in methods:
        pending.put(method)

    with Progress(transient=True) as progress:
        task = progress.add_task(f"ccxt {ccxt.__version__} suite", total=len(methods))

        def drain(runner: Runner) -> None:
            while True:
                try:
                    method = pending.get_nowait()
                except queue.Empty:
                    return
                code, output = runner.run(method)
                (logs / f"{method}.log").write_text(output)
                results.append(classify(method, code, output, scope))
                progress.advance(task)

        with ThreadPoolExecutor(jobs) as pool:
            list(pool.map(drain, runners))
    return results


def markdown_table(results: Sequence[Result]) -> str:
    counts = {outcome: sum(r.outcome is outcome for r in results) for outcome in Outcome}
    summary = ", ".join(f"{count} {outcome.value}" for outcome, count in counts.items())
    rows = [
        f"# ccxt {ccxt.__version__} `{EXCHANGE}` suite: {summary}",
        "",
        "| method | result | detail |",
        "|---|---|---|",
        *(
            f"| {r.method} | {r.outcome.value} | {r.detail.replace('|', '/')} |"
            for r in sorted(results, key=lambda r: r.method)
        ),
    ]
    return "\n".join(rows) + "\n"


def print_table(console: Console, results: Sequence[Result]) -> None:
    colours = {
        Outcome.PASSED: "green",
        Outcome.FAILED: "red",
        Outcome.WARNED: "yellow",
        Outcome.SKIPPED: "dim",
    }
    table = Table(title=f"ccxt {ccxt.__version__} {EXCHANGE} suite")
    for column in ("method", "result", "detail"):
        table.add_column(column, overflow="fold")
    for r in sorted(results, key=lambda r: r.method):
        table.add_row(r.method, f"[{colours[r.outcome]}]{r.outcome.value}", r.detail)
    console.print(table)


def wait_for_quotes(url: str, timeout_s: float = 30.0) -> None:
    """The suite's first calls read books and tickers: wait until the makers quote them."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=url) as http:
        while time.monotonic() < deadline:
            depth = http.get("/fapi/v1/depth", params={"symbol": "BTCUSDT", "limit": 5})
            if depth.status_code == 200 and depth.json()["bids"] and depth.json()["asks"]:
                return
            time.sleep(0.1)
    raise SystemExit(f"the mock at {url} quoted no book within {timeout_s:.0f} s")


@contextmanager
def embedded_mock(log: Path) -> Iterator[Target]:
    """A fresh mock with its own Redis, and one funded trader per method."""
    with EmbeddedRedis() as redis, log.open("wb") as output:
        settings = Settings(redis_url=redis.url, port=free_port(), accounts=ACCOUNTS)
        with exchange_process(settings, output):
            url = f"http://127.0.0.1:{settings.port}"
            wait_for_quotes(url)
            traders = AccountBook.from_settings(settings).traders
            yield Target(url, tuple(Credentials(a.api_key, a.secret) for a in traders))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", help="a Binance-compatible base URL; a fresh mock if none")
    parser.add_argument("--api-key", help="the target's API key (with --target)")
    parser.add_argument("--secret", help="the target's API secret (with --target)")
    parser.add_argument("--method", action="append", default=[], help="run only these")
    parser.add_argument("--jobs", type=int, default=2, help="methods run at once")
    parser.add_argument("--build-dir", type=Path, default=BUILD_DIR)
    args = parser.parse_args(argv)
    console = Console()
    scope = load_scope()
    build: Path = args.build_dir.resolve()

    def run(target: Target) -> list[Result]:
        return conformance(target, build, scope, args.method, args.jobs)

    if args.target:
        if not (args.api_key and args.secret):
            parser.error("--target needs --api-key and --secret")
        results = run(Target(args.target, (Credentials(args.api_key, args.secret),)))
    else:
        build.mkdir(parents=True, exist_ok=True)
        with embedded_mock(build / "exchange.log") as target:
            results = run(target)
    print_table(console, results)
    table = build / TABLE_FILE
    table.write_text(markdown_table(results))
    broken = [r.method for r in results if r.broken]
    console.print(f"table: {table}")
    if broken:
        console.print(f"[red]not conformant: {', '.join(broken)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
