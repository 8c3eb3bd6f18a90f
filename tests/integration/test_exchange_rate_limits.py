"""Binance's rate limits on a real exchange with two API worker processes, on a scaled clock.

The table is Binance's with a request-weight limit small enough to reach in a few requests, and
the run goes 30 times faster than real time: the minute window lasts 2 s and the first ban 4 s.
Each test speaks as client IPs of its own, through X-Forwarded-For from a trusted loopback
proxy, so no test spends another's limit.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Iterator
from importlib import resources
from pathlib import Path

import ccxt
import httpx
import pytest
import yaml

from exchange_mock.accounts import AccountBook
from exchange_mock.redis_server import EmbeddedRedis, free_port
from exchange_mock.server import exchange_process
from exchange_mock.settings import Settings
from tests.integration.conftest import exchange_settings
from tests.integration.signed import SignedClient

WEIGHT_LIMIT = 20
STRIKES = 2
TIME_SCALE = 30
WINDOW_MS = 60_000 // TIME_SCALE
FIRST_BAN_MS = 120_000 // TIME_SCALE
RESTING = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
           "quantity": "0.002", "price": "120000"}  # fmt: skip
"""A buy well below the market: it rests."""


@pytest.fixture(scope="module")
def limits_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    shipped = resources.files("exchange_mock.data").joinpath("ratelimits.yaml").read_text()
    table = yaml.safe_load(shipped)
    table["rate_limits"][0]["limit"] = WEIGHT_LIMIT
    table["ban"]["strikes"] = STRIKES
    path = tmp_path_factory.mktemp("limits") / "ratelimits.yaml"
    path.write_text(yaml.safe_dump(table))
    return path


@pytest.fixture(scope="module")
def exchange(redis_server: EmbeddedRedis, limits_file: Path) -> Iterator[Settings]:
    """Two API workers in front of one engine; no market makers, whose depth polling and
    order flow would only add noise to the counts."""
    settings = exchange_settings(
        redis_server,
        f"limits-{time.time_ns()}",
        port=free_port(),
        makers=0,
        api_workers=2,
        time_scale=TIME_SCALE,
        rate_limits_file=limits_file,
        trusted_proxies=frozenset({"127.0.0.1"}),
    )
    with exchange_process(settings):
        yield settings


def url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.port}"


@pytest.fixture
async def workers(exchange: Settings) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One client per API worker process, each on a single keep-alive connection, which stays
    with the process that accepted it."""
    pinned: dict[str, httpx.AsyncClient] = {}
    spare: list[httpx.AsyncClient] = []
    try:
        for _ in range(40):
            http = httpx.AsyncClient(base_url=url(exchange), limits=httpx.Limits(max_connections=1))
            worker = (await http.get("/stampede/admin/status")).json()["api_worker"]["id"]
            if worker in pinned:
                spare.append(http)
            else:
                pinned[worker] = http
            if len(pinned) == 2:
                break
        assert len(pinned) == 2, "every connection went to the same worker"
        yield list(pinned.values())
    finally:
        for http in [*pinned.values(), *spare]:
            await http.aclose()


async def window_start() -> None:
    """Wait for the start of a rate-limit window (they are aligned to the clock), so that a
    test's requests all fall in one window."""
    await asyncio.sleep((WINDOW_MS - time.time() * 1000 % WINDOW_MS + 20) / 1000)


def client_ip(exchange: Settings, ip: str) -> httpx.AsyncClient:
    """A client speaking as `ip`, through the trusted loopback proxy."""
    return httpx.AsyncClient(base_url=url(exchange), headers={"X-Forwarded-For": ip})


def now_ms() -> int:
    return time.time_ns() // 1_000_000


async def test_two_workers_count_one_shared_limit(workers: list[httpx.AsyncClient]) -> None:
    ip = {"X-Forwarded-For": "203.0.113.1"}
    await window_start()
    used = []
    for n in range(WEIGHT_LIMIT):
        response = await workers[n % 2].get("/fapi/v1/ping", headers=ip)
        used.append(int(response.headers["X-MBX-USED-WEIGHT-1M"]))

    refused = [await http.get("/fapi/v1/ping", headers=ip) for http in workers]

    assert used == list(range(1, WEIGHT_LIMIT + 1))
    assert [r.status_code for r in refused] == [429, 429]
    assert [r.headers["X-MBX-USED-WEIGHT-1M"] for r in refused] == ["21", "22"]


async def test_429_then_418_then_the_ban_ends_on_the_scaled_clock(exchange: Settings) -> None:
    async with (
        client_ip(exchange, "203.0.113.2") as ip,
        client_ip(exchange, "203.0.113.3") as other,
    ):
        await window_start()
        full = await ip.get("/fapi/v1/depth", params={"symbol": "BTCUSDT", "limit": 1000})
        assert full.headers["X-MBX-USED-WEIGHT-1M"] == str(WEIGHT_LIMIT)

        before = now_ms()
        first = await ip.get("/fapi/v1/ping")
        after = now_ms()
        window_end = (before // WINDOW_MS + 1) * WINDOW_MS
        assert (first.status_code, first.json()["code"]) == (429, -1003)
        assert first.headers["Retry-After"] in {
            str(math.ceil((window_end - t) / 1000)) for t in (before, after)
        }
        strikes = [await ip.get("/fapi/v1/ping") for _ in range(STRIKES)]
        banned = strikes.pop()
        assert [r.status_code for r in strikes] == [429] * (STRIKES - 1)

        until = int(banned.json()["msg"].split("banned until ")[1].split(".")[0])
        assert (banned.status_code, banned.json()["code"]) == (418, -1003)
        assert until - now_ms() == pytest.approx(FIRST_BAN_MS, abs=500)
        assert banned.headers["Retry-After"] == str(FIRST_BAN_MS // 1000)
        assert (await other.get("/fapi/v1/ping")).status_code == 200

        await asyncio.sleep((until - now_ms() - 300) / 1000)
        assert (await ip.get("/fapi/v1/ping")).status_code == 418
        await asyncio.sleep((until - now_ms() + 50) / 1000)
        ended = await ip.get("/fapi/v1/ping")

    assert ended.status_code == 200
    assert ended.headers["X-MBX-USED-WEIGHT-1M"] == "1"


async def test_new_orders_carry_the_accounts_order_counts(exchange: Settings) -> None:
    trader = AccountBook.from_settings(exchange).traders[0]
    async with client_ip(exchange, "203.0.113.4") as http:
        client = SignedClient(http, trader)
        placed = [await client.send("POST", "/fapi/v1/order", **RESTING) for _ in range(3)]

    assert [r.status_code for r in placed] == [200] * 3
    assert [r.headers["X-MBX-ORDER-COUNT-1M"] for r in placed] == ["1", "2", "3"]
    assert all(1 <= int(r.headers["X-MBX-ORDER-COUNT-10S"]) <= 3 for r in placed)
    assert {r.headers["X-MBX-USED-WEIGHT-1M"] for r in placed} == {"0"}


def test_ccxt_sees_429_and_418_as_ddos_protection(exchange: Settings) -> None:
    """ccxt maps both statuses to DDoSProtection before it reads the body, so a bot's usual
    back-off handler is what the mock's limits exercise."""
    base = url(exchange)
    binance = ccxt.binanceusdm(
        {
            "urls": {"api": {"fapiPublic": f"{base}/fapi/v1"}},
            "options": {"fetchCurrencies": False},
            "headers": {"X-Forwarded-For": "203.0.113.5"},
            "enableRateLimit": False,
        }
    )
    binance.load_markets()
    statuses: list[int] = []
    while not statuses or statuses[-1] != 418:
        assert len(statuses) < WEIGHT_LIMIT + STRIKES + 2, statuses
        try:
            binance.fetch_order_book("BTC/USDT:USDT", limit=5)
            statuses.append(200)
        except ccxt.DDoSProtection as error:
            statuses.append(418 if " 418 " in str(error) else 429)
            assert '"code":-1003' in str(error)

    assert statuses[-STRIKES - 1 :] == [429] * STRIKES + [418]


async def test_the_status_snapshot_holds_every_process_of_the_exchange(exchange: Settings) -> None:
    """Two API workers and the process running the other roles, each as it reports itself,
    whichever worker answers."""
    async with httpx.AsyncClient(base_url=url(exchange)) as http, asyncio.timeout(10):
        while True:
            processes = (await http.get("/stampede/admin/status")).json()["processes"]
            if len(processes) == 3:
                break
            await asyncio.sleep(0.2)

    by_roles = sorted((tuple(p["roles"]), p["request_capacity"]) for p in processes)
    assert by_roles == [
        (("api",), exchange.api_concurrency),
        (("api",), exchange.api_concurrency),
        (("engine", "feeds", "makers", "projector"), None),
    ]
    assert len({p["process"] for p in processes}) == 3
    assert all(p["cpu_pct"] >= 0 for p in processes)
