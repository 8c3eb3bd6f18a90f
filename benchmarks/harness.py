"""What the benchmarks share: the exchange and baselines as processes of their own on loopback
(so the load generator and the server do not share an interpreter), and signed requests."""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

from exchange_mock.accounts import ApiAccount
from exchange_mock.redis_server import free_port
from exchange_mock.settings import Settings


def best_of(rounds: int, run: Callable[[], None]) -> float:
    """Seconds of the fastest of `rounds` runs: the figure least disturbed by whatever else the
    machine does."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def bench_settings(redis_url: str) -> Settings:
    """The exchange as benchmarked: 100 funded traders, no market makers (nothing but the
    measured load touches it), and no rate limits, which one load generator on one IP would
    reach within a second (`api_middleware.py` measures what they cost)."""
    return Settings(
        redis_url=redis_url,
        port=free_port(),
        accounts=100,
        makers=0,
        key_prefix="bench",
        rate_limits=False,
    )


@contextmanager
def process(args: list[str]) -> Iterator[None]:
    child = subprocess.Popen(args, env=dict(os.environ))
    try:
        yield
    finally:
        child.terminate()
        child.wait(timeout=15)


def signed_target(path: str, account: ApiAccount, **params: object) -> str:
    """A signed request target valid for a minute (recvWindow 60000, Binance's maximum)."""
    query = urlencode({**params, "recvWindow": 60_000, "timestamp": int(time.time() * 1000)})
    signature = hmac.new(account.secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    return f"{path}?{query}&signature={signature}"
