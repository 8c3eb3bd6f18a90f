"""Every fault switched on and off at runtime through the operator API, on a real exchange in a
process of its own, with its effect measured from the outside: latencies, Binance errors, the
journal, and the read-lag headers (`X-Stampede-Journal-Seq` minus `X-Stampede-Read-Seq`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from exchange_mock.accounts import AccountBook
from exchange_mock.domain.events import OrderAccepted
from exchange_mock.redis_server import EmbeddedRedis, free_port
from exchange_mock.server import exchange_process
from exchange_mock.settings import Settings
from exchange_mock.store.journal import read_journal
from exchange_mock.store.keys import Keys
from tests.integration.conftest import exchange_settings, wait_for_books
from tests.integration.signed import SignedClient

ACK_TIMEOUT_MS = 2_000
"""Far beyond the engine delays below, so a busy machine does not turn a slow ack into a 408."""
DELAY_MS = 200
FAULTS = "/stampede/admin/faults"


@pytest.fixture(scope="module")
def exchange(redis_server: EmbeddedRedis) -> Iterator[Settings]:
    """Market makers requote slowly, so the journal grows steadily but not fast."""
    settings = exchange_settings(
        redis_server,
        f"faults-{time.time_ns()}",
        port=free_port(),
        ack_timeout_ms=ACK_TIMEOUT_MS,
        maker_interval_ms=500,
        maker_levels=2,
        faults={"feed_delay_ms": 40},
    )
    with exchange_process(settings):
        wait_for_books(f"http://127.0.0.1:{settings.port}")
        yield settings


@pytest.fixture
async def http(exchange: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{exchange.port}", timeout=10) as c:
        yield c
        await c.delete(FAULTS)


@pytest.fixture(scope="module")
def traders(exchange: Settings) -> Iterator[Iterator[int]]:
    """Account numbers, one per test that trades, so no test sees another's positions."""
    yield iter(range(len(AccountBook.from_settings(exchange).traders)))


@pytest.fixture
def trader(http: httpx.AsyncClient, exchange: Settings, traders: Iterator[int]) -> SignedClient:
    return SignedClient(http, AccountBook.from_settings(exchange).traders[next(traders)])


@pytest.fixture
async def redis(exchange: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(str(exchange.redis_url))
    yield client
    await client.aclose()


async def fault(http: httpx.AsyncClient, kind: str, value: float) -> None:
    response = await http.put(FAULTS, json={"kind": kind, "value": value})
    assert response.status_code == 200, response.text
    await asyncio.sleep(0.02)  # the change notice reaches the exchange's processes


async def status(http: httpx.AsyncClient) -> dict[str, Any]:
    result: dict[str, Any] = (await http.get("/stampede/admin/status")).json()
    return result


async def seconds(request: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = await request
    return response, time.perf_counter() - started


def resting_order(trader: SignedClient, client_order_id: str) -> Awaitable[httpx.Response]:
    """A buy well below the market, which rests: one event in the journal, nothing else."""
    return trader.send(
        "POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
        quantity="0.002", price="120000", newClientOrderId=client_order_id,
    )  # fmt: skip


async def journaled(redis: Redis, keys: Keys, client_order_id: str) -> bool:
    async for _seq, event in read_journal(redis, keys):
        if isinstance(event, OrderAccepted) and event.order.client_order_id == client_order_id:
            return True
    return False


async def read_lag(trader: SignedClient) -> int:
    """How many journaled events a position read does not reflect, from its headers."""
    headers = (await trader.send("GET", "/fapi/v2/positionRisk")).headers
    return int(headers["X-Stampede-Journal-Seq"]) - int(headers["X-Stampede-Read-Seq"])


async def eventually(condition: Callable[[], Awaitable[bool]], timeout_s: float = 5) -> None:
    async with asyncio.timeout(timeout_s):
        while not await condition():
            await asyncio.sleep(0.02)


async def until_status(
    http: httpx.AsyncClient, holds: Callable[[dict[str, Any]], bool], timeout_s: float = 5
) -> None:
    """Poll the operator's status until `holds(status)`."""

    async def status_holds() -> bool:
        return holds(await status(http))

    await eventually(status_holds, timeout_s)


def error(response: httpx.Response) -> tuple[int, int, str]:
    return response.status_code, response.json()["code"], response.json()["msg"]


# -- the operator API ----------------------------------------------------------------------------


async def test_faults_from_the_settings_are_in_force_at_start(http: httpx.AsyncClient) -> None:
    assert (await status(http))["faults"] == {"feed_delay_ms": 40}


async def test_status_shows_every_fault_in_one_call_and_faults_clear(
    http: httpx.AsyncClient,
) -> None:
    await fault(http, "engine_delay_ms", 5)
    await fault(http, "feed_delay_ms", 25)
    await fault(http, "unknown_error_pct", 0.5)
    shown = await status(http)
    assert shown["faults"] == {"engine_delay_ms": 5, "feed_delay_ms": 25, "unknown_error_pct": 0.5}
    assert set(shown) >= {"orders_queued", "projector_lag_events", "projector_lag_ms", "api_worker"}

    await fault(http, "engine_delay_ms", 0)
    assert set((await status(http))["faults"]) == {"feed_delay_ms", "unknown_error_pct"}
    assert (await http.delete(FAULTS)).json() == {"faults": {}}
    assert (await status(http))["faults"] == {}
    refused = await http.put(FAULTS, json={"kind": "unavailable_pct", "value": 250})
    assert (refused.status_code, refused.json()["code"]) == (400, -1130)


# -- failures at the API -------------------------------------------------------------------------


async def test_unavailable_orders_are_not_executed(
    http: httpx.AsyncClient, trader: SignedClient, redis: Redis, exchange: Settings
) -> None:
    await fault(http, "unavailable_pct", 100)
    refused = await resting_order(trader, "unavailable-1")
    await fault(http, "unavailable_pct", 0)

    assert error(refused) == (503, -1000, "Service Unavailable.")
    await asyncio.sleep(0.2)
    assert not await journaled(redis, Keys(exchange.key_prefix), "unavailable-1")


async def test_unknown_error_orders_are_executed(
    http: httpx.AsyncClient, trader: SignedClient, redis: Redis, exchange: Settings
) -> None:
    await fault(http, "unknown_error_pct", 100)
    answered = await resting_order(trader, "unknown-1")
    await fault(http, "unknown_error_pct", 0)

    assert error(answered) == (
        503,
        -1000,
        "Unknown error, please check your request or try again later.",
    )
    assert await journaled(redis, Keys(exchange.key_prefix), "unknown-1")

    async def queryable() -> bool:
        query = {"symbol": "BTCUSDT", "origClientOrderId": "unknown-1"}
        return (await trader.send("GET", "/fapi/v1/order", **query)).status_code == 200

    await eventually(queryable)


async def test_a_percentage_fails_that_share_of_requests(http: httpx.AsyncClient) -> None:
    await fault(http, "unavailable_pct", 25)

    statuses = [(await http.get("/fapi/v1/ping")).status_code for _ in range(400)]

    assert 0.18 < statuses.count(503) / 400 < 0.32
    await fault(http, "unavailable_pct", 0)
    assert (await http.get("/fapi/v1/ping")).status_code == 200


async def test_api_delay_slows_binance_requests_but_not_the_operator(
    http: httpx.AsyncClient,
) -> None:
    await fault(http, "api_delay_ms", DELAY_MS)

    _, slowed = await seconds(http.get("/fapi/v1/ping"))
    _, operator = await seconds(http.get("/stampede/admin/status"))
    await fault(http, "api_delay_ms", 0)
    _, cleared = await seconds(http.get("/fapi/v1/ping"))

    assert slowed >= DELAY_MS / 1000
    assert operator < DELAY_MS / 2000
    assert cleared < DELAY_MS / 2000


# -- the engine ----------------------------------------------------------------------------------


async def test_a_paused_engine_times_orders_out_and_executes_them_on_resume(
    http: httpx.AsyncClient, trader: SignedClient, redis: Redis, exchange: Settings
) -> None:
    keys = Keys(exchange.key_prefix)
    await fault(http, "engine_paused", 1)

    timed_out, took = await seconds(resting_order(trader, "paused-1"))

    assert error(timed_out)[:2] == (408, -1007)
    assert took >= ACK_TIMEOUT_MS / 1000
    assert (await status(http))["orders_queued"] >= 1
    assert not await journaled(redis, keys, "paused-1")
    await fault(http, "engine_paused", 0)
    await eventually(lambda: journaled(redis, keys, "paused-1"))


async def test_engine_delay_slows_every_ack(http: httpx.AsyncClient, trader: SignedClient) -> None:
    await fault(http, "engine_delay_ms", DELAY_MS * 2)
    placed, slowed = await seconds(resting_order(trader, "delayed-1"))
    await fault(http, "engine_delay_ms", 0)
    _, cleared = await seconds(resting_order(trader, "delayed-2"))

    assert placed.status_code == 200
    assert slowed >= DELAY_MS * 2 / 1000
    assert cleared < DELAY_MS / 1000


# -- the projector and the read path -------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value"),
    [("projector_paused", 1), ("projector_delay_ms", 800), ("projector_event_delay_us", 100_000)],
)
async def test_a_slow_projector_makes_reads_lag_until_it_recovers(
    http: httpx.AsyncClient, trader: SignedClient, kind: str, value: float
) -> None:
    async def caught_up() -> bool:
        return await read_lag(trader) < 20

    await eventually(caught_up)  # from a read model that keeps up (a busy machine's may trail)
    await fault(http, kind, value)
    worst_events = worst_ms = 0
    for n in range(10):
        await resting_order(trader, f"{kind}-{n}")
        worst_events = max(worst_events, await read_lag(trader))
        worst_ms = max(worst_ms, (await status(http))["projector_lag_ms"])
        await asyncio.sleep(0.1)
    await fault(http, kind, 0)

    assert worst_events >= 10
    assert worst_ms >= 500
    await eventually(caught_up)
    await until_status(http, lambda status: status["projector_lag_ms"] < 200)


async def test_stale_reads_serve_positions_from_a_lagging_copy(
    http: httpx.AsyncClient, trader: SignedClient
) -> None:
    def position(rows: list[dict[str, str]]) -> str:
        return next(row["positionAmt"] for row in rows if row["symbol"] == "ETHUSDT")

    await fault(http, "stale_reads_ms", 1_000)
    copied = time.monotonic()
    before = await trader.ok("GET", "/fapi/v2/positionRisk")
    await trader.ok("POST", "/fapi/v1/order", symbol="ETHUSDT", side="BUY", type="MARKET",
                    quantity="0.05")  # fmt: skip
    filled_at = (await status(http))["journal_head"]
    await until_status(http, lambda status: status["projected_seq"] >= filled_at)

    stale = await trader.send("GET", "/fapi/v2/positionRisk")
    assert position(stale.json()) == position(before) == "0.000"
    assert int(stale.headers["X-Stampede-Journal-Seq"]) > int(stale.headers["X-Stampede-Read-Seq"])
    await asyncio.sleep(max(0.0, copied + 1.1 - time.monotonic()))
    assert position(await trader.ok("GET", "/fapi/v2/positionRisk")) == "0.050"


# -- Redis -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "slowed", "not_slowed"),
    [
        ("redis_read_delay_ms", "positionRisk", "ping"),  # ping's only Redis call: the limiter
        # Every Binance request writes (the limiter's script); the operator's reads never slow.
        ("redis_write_delay_ms", "ping", "status"),
        ("redis_append_delay_ms", "order", "positionRisk"),
    ],
)
async def test_redis_latency_slows_only_its_class_of_operation(
    http: httpx.AsyncClient, trader: SignedClient, kind: str, slowed: str, not_slowed: str
) -> None:
    requests: dict[str, Callable[[], Awaitable[httpx.Response]]] = {
        "ping": lambda: http.get("/fapi/v1/ping"),
        "positionRisk": lambda: trader.send("GET", "/fapi/v2/positionRisk"),
        "status": lambda: http.get("/stampede/admin/status"),
        "order": lambda: resting_order(trader, f"redis-{time.time_ns()}"),
    }
    await fault(http, kind, DELAY_MS)

    slow, slow_s = await seconds(requests[slowed]())
    fast, fast_s = await seconds(requests[not_slowed]())
    await fault(http, kind, 0)
    # Round trips already waiting finish at their pace, and the engine works off its backlog.
    await asyncio.sleep(DELAY_MS / 1000)
    await until_status(http, lambda status: status["orders_queued"] == 0)
    _, cleared_s = await seconds(requests[slowed]())

    assert (slow.status_code, fast.status_code) == (200, 200)
    assert slow_s >= DELAY_MS / 1000
    assert fast_s < DELAY_MS / 2000
    assert cleared_s < DELAY_MS / 2000
