"""Load shedding on a real exchange: new orders refused with -1008 while the queue in front of
a paused engine is deep (reduce-only orders still go through), and an API worker that answers
503 at once past its concurrency cap instead of queueing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from exchange_mock.accounts import AccountBook
from exchange_mock.redis_server import EmbeddedRedis, free_port
from exchange_mock.server import exchange_process
from exchange_mock.settings import Settings
from tests.integration.conftest import exchange_settings, wait_for_books
from tests.integration.signed import SignedClient

SHED_DEPTH = 20
CAPACITY = 40
ACK_TIMEOUT_MS = 3_000
RESTING = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
           "quantity": "0.002", "price": "120000"}  # fmt: skip
"""A buy well below the market: it rests."""


@pytest.fixture(scope="module")
def exchange(redis_server: EmbeddedRedis) -> Iterator[Settings]:
    settings = exchange_settings(
        redis_server,
        f"overload-{time.time_ns()}",
        port=free_port(),
        shed_queue_depth=SHED_DEPTH,
        api_concurrency=CAPACITY,
        ack_timeout_ms=ACK_TIMEOUT_MS,
        maker_interval_ms=500,
        maker_levels=2,
    )
    with exchange_process(settings):
        wait_for_books(f"http://127.0.0.1:{settings.port}")
        yield settings


@pytest.fixture
async def http(exchange: Settings) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=2 * CAPACITY)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{exchange.port}", timeout=10, limits=limits
    ) as client:
        yield client
        await client.delete("/stampede/admin/faults")


async def fault(http: httpx.AsyncClient, kind: str, value: float) -> None:
    response = await http.put("/stampede/admin/faults", json={"kind": kind, "value": value})
    assert response.status_code == 200, response.text
    await asyncio.sleep(0.02)  # the change notice reaches the exchange


async def orders_queued(http: httpx.AsyncClient) -> int:
    return int((await http.get("/stampede/admin/status")).json()["orders_queued"])


async def reported(http: httpx.AsyncClient, field: str, at_least: int) -> dict[str, object]:
    """The exchange's one process as the status snapshot reports it, once its vitals (written
    each second) count `at_least` of `field`."""
    async with asyncio.timeout(5):
        while True:
            processes = (await http.get("/stampede/admin/status")).json()["processes"]
            if processes and processes[0][field] >= at_least:
                (process,) = processes
                return dict(process)
            await asyncio.sleep(0.1)


async def test_new_orders_are_shed_while_reduce_only_orders_still_execute(
    http: httpx.AsyncClient, exchange: Settings
) -> None:
    traders = AccountBook.from_settings(exchange).traders
    closer, filler = SignedClient(http, traders[0]), SignedClient(http, traders[1])
    await closer.ok("POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                    quantity="0.010")  # fmt: skip
    await fault(http, "engine_paused", 1)

    queued = [
        asyncio.create_task(filler.send("POST", "/fapi/v1/order", **RESTING))
        for _ in range(SHED_DEPTH + 5)
    ]
    async with asyncio.timeout(5):
        while await orders_queued(http) <= SHED_DEPTH:
            await asyncio.sleep(0.02)
    started = time.perf_counter()
    shed = await closer.send("POST", "/fapi/v1/order", **RESTING)
    shed_after = time.perf_counter() - started
    reduce_only = {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.010",
                   "reduceOnly": "true"}  # fmt: skip
    reducing = asyncio.create_task(closer.send("POST", "/fapi/v1/order", **reduce_only))
    await asyncio.sleep(0.2)
    assert not reducing.done(), "a reduce-only order queues, and the engine is paused"
    await fault(http, "engine_paused", 0)
    reduced = await reducing

    assert (shed.status_code, shed.json()) == (
        503,
        {
            "code": -1008,
            "msg": "Server is currently overloaded with other requests. "
            "Please try again in a few minutes.",
        },
    )
    assert shed_after < ACK_TIMEOUT_MS / 1000 / 5, "shed at once, not after waiting in the queue"
    assert reduced.status_code == 200, reduced.text
    assert (reduced.json()["status"], reduced.json()["reduceOnly"]) == ("FILLED", True)
    fillers = [response.status_code for response in await asyncio.gather(*queued)]
    assert fillers.count(200) > SHED_DEPTH // 2
    assert set(fillers) <= {200, 503}
    # The operator's snapshot counts the orders this process shed, beside its roles and CPU.
    process = await reported(http, "orders_shed", 1 + fillers.count(503))
    assert set(process["roles"]) == {"api", "engine", "projector", "makers", "feeds"}  # type: ignore[arg-type]


async def test_past_the_concurrency_cap_requests_are_refused_at_once(
    http: httpx.AsyncClient,
) -> None:
    await fault(http, "api_delay_ms", 2_000)

    async def timed_ping() -> tuple[httpx.Response, float]:
        started = time.perf_counter()
        response = await http.get("/fapi/v1/ping")
        return response, time.perf_counter() - started

    burst = [asyncio.create_task(timed_ping()) for _ in range(CAPACITY + 20)]
    await asyncio.sleep(0.5)
    in_flight = (await http.get("/stampede/admin/status")).json()["api_worker"]["in_flight"]
    outcomes = await asyncio.gather(*burst)

    served = [seconds for response, seconds in outcomes if response.status_code == 200]
    refused = [(r, seconds) for r, seconds in outcomes if r.status_code == 503]
    assert in_flight == CAPACITY
    assert len(served) == CAPACITY and min(served) >= 2
    assert len(refused) == 20
    assert all(r.json() == {"code": -1000, "msg": "Service Unavailable."} for r, _ in refused)
    assert max(seconds for _, seconds in refused) < 1
    await reported(http, "requests_shed", 20)
