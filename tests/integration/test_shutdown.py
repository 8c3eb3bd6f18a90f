"""`stampede exchange` with its embedded Redis: stopped by SIGTERM as cleanly as by Ctrl-C, its
private data gone afterwards; with a data directory, its state back on the next start."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from exchange_mock.accounts import AccountBook, ApiAccount
from exchange_mock.redis_server import free_port
from exchange_mock.server import settings_env, wait_until_serving
from exchange_mock.settings import Settings
from tests.integration.conftest import wait_for_books
from tests.integration.signed import SignedClient


@contextmanager
def embedded_exchange(
    settings: Settings, tmp: Path, log: Path, stop: signal.Signals = signal.SIGTERM
) -> Iterator[str]:
    """The exchange and its embedded Redis in a process of their own, private files under
    `tmp`; stopped with `stop`, and it must exit 0."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "exchange_mock"],
            env={**os.environ, **settings_env(settings), "TMPDIR": str(tmp)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{settings.port}"
            wait_until_serving(url)
            wait_for_books(url)
            yield url
        finally:
            process.send_signal(stop)
            code = process.wait(timeout=30)
    assert code == 0, log.read_text()


def settings_for(**overrides: object) -> Settings:
    values: dict[str, object] = {"port": free_port(), "accounts": 10, "makers": 1, **overrides}
    return Settings(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_shuts_down_cleanly_and_removes_the_private_data(
    tmp_path: Path, stop: signal.Signals
) -> None:
    log = tmp_path / "exchange.log"
    with embedded_exchange(settings_for(), tmp_path, log, stop):
        assert list(tmp_path.glob("stampede-redis-*")), "the embedded Redis keeps its data here"
    assert not list(tmp_path.glob("stampede-redis-*"))
    text = log.read_text()
    for failure in ("Traceback", "ERROR", "shutdown failed"):
        assert failure not in text, text


def test_a_data_directory_keeps_the_exchange_state_across_restarts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = settings_for(redis_data_dir=data)
    trader = AccountBook.from_settings(settings).traders[0]
    log = tmp_path / "exchange.log"
    with embedded_exchange(settings, tmp_path, log) as url:
        depth = httpx.get(f"{url}/fapi/v1/depth", params={"symbol": "BTCUSDT"}).json()
        below = (Decimal(depth["bids"][0][0]) * Decimal("0.99")).quantize(Decimal("0.1"))
        order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                 "quantity": "0.01", "price": str(below)}  # fmt: skip
        placed = sign(url, trader, "POST", "/fapi/v1/order", order)
        assert placed.status_code == 200, placed.text
        order_id = placed.json()["orderId"]
    assert list(data.glob("appendonly*")), "the append-only file stays in the data directory"
    with embedded_exchange(settings, tmp_path, log) as url:
        found = sign(
            url, trader, "GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": str(order_id)}
        )
        assert found.status_code == 200, found.text
        assert found.json()["status"] == "NEW"


def sign(
    url: str, trader: ApiAccount, method: str, path: str, params: dict[str, str]
) -> httpx.Response:
    async def send() -> httpx.Response:
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            return await SignedClient(http, trader).send(method, path, **params)

    return asyncio.run(send())
