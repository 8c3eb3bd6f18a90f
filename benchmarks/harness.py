"""Starting the servers a benchmark compares, as separate processes on loopback."""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import httpx

from exchange_mock.accounts import Account
from exchange_mock.server import settings_env
from exchange_mock.settings import Settings

HERE = Path(__file__).parent


def wait_until_up(url: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up")
        time.sleep(0.1)


@contextmanager
def process(args: list[str], env: dict[str, str] | None = None) -> Iterator[None]:
    child = subprocess.Popen(args, env={**os.environ, **(env or {})})
    try:
        yield
    finally:
        child.terminate()
        child.wait(timeout=15)


@contextmanager
def exchange(settings: Settings) -> Iterator[str]:
    """`stampede exchange` as a user runs it; yields its base URL once it answers."""
    cli = [sys.executable, "-c", "from loadtests.cli import main; main()", "exchange"]
    with process(cli, settings_env(settings)):
        base = f"http://127.0.0.1:{settings.port}"
        wait_until_up(base + "/fapi/v1/ping")
        yield base


def signed_target(path: str, account: Account, **params: object) -> str:
    """A signed request target valid for a minute (recvWindow 60000, Binance's maximum)."""
    query = urlencode({**params, "recvWindow": 60_000, "timestamp": int(time.time() * 1000)})
    signature = hmac.new(account.secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    return f"{path}?{query}&signature={signature}"
