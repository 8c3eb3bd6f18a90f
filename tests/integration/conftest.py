"""A real exchange (uvicorn on a free loopback port, the session's real Redis) per test module."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import ccxt
import httpx
import pytest

from exchange_mock.accounts import AccountBook, ApiAccount
from exchange_mock.redis_server import EmbeddedRedis, free_port
from exchange_mock.server import exchange_process
from exchange_mock.settings import Settings


def exchange_settings(redis_server: EmbeddedRedis, prefix: str, **overrides: object) -> Settings:
    """The tests' exchange: small, quick makers, and no snapshots unless a test asks for them.
    These tests look for every acknowledged order in the journal, and a snapshot trims it: on a
    busy machine a module's exchange outlives the minute between two."""
    values: dict[str, object] = {
        "redis_url": redis_server.url,
        "key_prefix": prefix,
        "port": 0,
        "accounts": 40,
        "makers": 2,
        "maker_interval_ms": 200,
        "snapshot_interval_ms": 0,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


def trading_symbols(base_url: str) -> list[str]:
    """The contracts the exchange lists as trading, in its exchangeInfo's order: the perpetuals,
    then the quarterlies its calendar dated."""
    info = httpx.get(f"{base_url}/fapi/v1/exchangeInfo").raise_for_status().json()
    return [each["symbol"] for each in info["symbols"] if each["status"] == "TRADING"]


def wait_for_books(base_url: str, timeout_s: float = 15.0) -> None:
    """Block until the market makers have quoted both sides of every trading contract's book."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=base_url) as http:
        for symbol in trading_symbols(base_url):
            while True:
                depth = http.get("/fapi/v1/depth", params={"symbol": symbol, "limit": 5})
                if depth.status_code == 200 and depth.json()["bids"] and depth.json()["asks"]:
                    break
                assert time.monotonic() < deadline, f"no quotes on {symbol}: {depth.text}"
                time.sleep(0.05)


@dataclass(frozen=True)
class Exchange:
    url: str
    settings: Settings


@pytest.fixture(scope="module")
def exchange(redis_server: EmbeddedRedis, request: pytest.FixtureRequest) -> Iterator[Exchange]:
    """The exchange in a process of its own, as users run it: on a 2-core machine a server
    sharing the test's interpreter would measure the GIL, not the exchange."""
    prefix = f"it-{request.module.__name__.rsplit('.', 1)[-1]}-{time.time_ns()}"
    settings = exchange_settings(redis_server, prefix, port=free_port())
    with exchange_process(settings):
        url = f"http://127.0.0.1:{settings.port}"
        wait_for_books(url)
        yield Exchange(url, settings)


@pytest.fixture(scope="module")
def accounts(exchange: Exchange) -> AccountBook:
    return AccountBook.from_settings(exchange.settings)


@pytest.fixture
async def http(exchange: Exchange) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=exchange.url, timeout=30) as client:
        yield client


def ccxt_client(exchange: Exchange, account: ApiAccount) -> Any:
    """An unmodified ccxt `binanceusdm` client, pointed at the mock by URL overrides only."""
    base = exchange.url
    return ccxt.binanceusdm(
        {
            "apiKey": account.api_key,
            "secret": account.secret,
            "urls": {
                "api": {
                    "fapiPublic": f"{base}/fapi/v1",
                    "fapiPublicV2": f"{base}/fapi/v2",
                    "fapiPublicV3": f"{base}/fapi/v3",
                    "fapiPrivate": f"{base}/fapi/v1",
                    "fapiPrivateV2": f"{base}/fapi/v2",
                    "fapiPrivateV3": f"{base}/fapi/v3",
                }
            },
            "options": {"fetchCurrencies": False},
        }
    )
