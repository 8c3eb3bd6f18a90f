"""The edge in front of the routes, over HTTP with an in-memory bus and read model, and the real
rate limiter on the session's Redis: headers, refusals, the concurrency cap, API faults."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from exchange_mock.api.middleware import (
    SERVICE_UNAVAILABLE_MSG,
    UNKNOWN_ERROR_MSG,
    Edge,
    EdgeMiddleware,
)
from exchange_mock.api.ratelimit import RateLimiter, RateLimitTable
from exchange_mock.domain.commands import Command
from exchange_mock.domain.replies import Done, Reply
from exchange_mock.faults.kinds import FaultKind
from exchange_mock.settings import Settings
from exchange_mock.store.keys import Keys
from tests.api.fakes import (
    ACCOUNTS,
    TRADER,
    FakeBus,
    FakeReads,
    client,
    key_header,
    make_app,
    make_context,
    signed_query,
    snapshot,
)
from tests.faults.fakes import SetFaults

T0 = 20_371 * 86_400_000 + 15_000
"""15 s into a minute window."""
SHIPPED = RateLimitTable.load()
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ORDER = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.010"}


def table_with_weight_limit(limit: int) -> RateLimitTable:
    """The shipped table with a smaller request-weight limit, quick to reach."""
    data = SHIPPED.model_dump(mode="json")
    data["rate_limits"][0]["limit"] = limit
    return RateLimitTable.model_validate(data)


class GatedBus(FakeBus):
    """Answers every command with an order, once `gate` opens."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.gate.set()

    async def submit(self, command: Command) -> Reply:
        self.commands.append(command)
        await self.gate.wait()
        return Done(orders=(snapshot(),))


@pytest.fixture
def bus() -> GatedBus:
    return GatedBus()


@pytest.fixture
def faults() -> SetFaults:
    return SetFaults()


AppFactory = Callable[..., FastAPI]


@pytest.fixture
def guarded(redis: Redis, key_prefix: str, bus: GatedBus, faults: SetFaults) -> AppFactory:
    """An app behind the edge: `guarded(table=..., **settings)`."""

    def build(table: RateLimitTable = SHIPPED, **overrides: Any) -> FastAPI:
        settings = Settings(**overrides)
        app = make_app(make_context(bus, FakeReads()))
        app.add_middleware(EdgeMiddleware)
        limiter = RateLimiter(redis, Keys(key_prefix), table, clock_ms=lambda: T0)
        app.state.edge = Edge(
            settings, ACCOUNTS, table, faults, limiter if settings.rate_limits else None
        )
        return app

    return build


@pytest.fixture
async def http(guarded: AppFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with client(guarded()) as http:
        yield http


async def place_order(http: httpx.AsyncClient) -> httpx.Response:
    return await http.post(
        "/fapi/v1/order", content=signed_query(TRADER, **ORDER), headers={**key_header(), **FORM}
    )


def body(response: httpx.Response) -> tuple[int, int, str]:
    return response.status_code, response.json()["code"], response.json()["msg"]


# -- rate-limit headers --------------------------------------------------------------------------


async def test_every_answer_carries_the_weight_used_so_far(http: httpx.AsyncClient) -> None:
    depth = await http.get("/fapi/v1/depth", params={"symbol": "BTCUSDT", "limit": 100})
    assert depth.headers["X-MBX-USED-WEIGHT-1M"] == "5"

    assert (await http.get("/fapi/v1/ping")).headers["X-MBX-USED-WEIGHT-1M"] == "6"
    refused = await http.get("/fapi/v1/depth")  # no symbol: the route's own 400
    assert refused.status_code == 400
    assert refused.headers["X-MBX-USED-WEIGHT-1M"] == "16"  # default limit 500 weighs 10


async def test_new_orders_carry_the_accounts_order_counts(http: httpx.AsyncClient) -> None:
    await place_order(http)

    placed = await place_order(http)

    assert placed.status_code == 200
    assert placed.headers["X-MBX-USED-WEIGHT-1M"] == "0"
    assert placed.headers["X-MBX-ORDER-COUNT-10S"] == "2"
    assert placed.headers["X-MBX-ORDER-COUNT-1M"] == "2"
    assert "X-MBX-ORDER-COUNT-1M" not in (await http.get("/fapi/v1/ping")).headers


@pytest.mark.parametrize(
    "forged",
    [
        "&".join(f"{k}={v}" for k, v in ORDER.items()),
        signed_query(TRADER, **ORDER)[:-1] + "0",
        signed_query(ACCOUNTS.traders[1], **ORDER),
    ],
    ids=["unsigned", "bad signature", "another account's secret"],
)
async def test_orders_without_the_accounts_secret_spend_none_of_its_budget(
    http: httpx.AsyncClient, forged: str
) -> None:
    """The key is public knowledge; only the signature proves the account sent the order."""
    for _ in range(3):
        refused = await http.post(
            "/fapi/v1/order", content=forged, headers={**key_header(), **FORM}
        )
        assert refused.status_code == 400
        assert "X-MBX-ORDER-COUNT-10S" not in refused.headers

    placed = await place_order(http)

    assert placed.status_code == 200
    assert placed.headers["X-MBX-ORDER-COUNT-10S"] == "1"


async def test_over_the_limit_the_answer_is_binances_429(guarded: AppFactory) -> None:
    async with client(guarded(table_with_weight_limit(5))) as http:
        await http.get("/fapi/v1/depth", params={"symbol": "BTCUSDT", "limit": 100})

        refused = await http.get("/fapi/v1/ping")

    assert body(refused) == (
        429,
        -1003,
        "Too many requests; current limit of IP(127.0.0.1) request weight per minute is 5. "
        "Please use WebSocket Streams for live updates to avoid polling the API.",
    )
    assert refused.headers["Retry-After"] == "45"
    assert refused.headers["X-MBX-USED-WEIGHT-1M"] == "6"


async def test_a_trusted_proxy_speaks_for_many_client_ips(guarded: AppFactory) -> None:
    app = guarded(table_with_weight_limit(5), trusted_proxies=frozenset({"127.0.0.1"}))
    async with client(app) as http:
        for _ in range(5):
            await http.get("/fapi/v1/ping", headers={"X-Forwarded-For": "198.51.100.1"})
        one = await http.get("/fapi/v1/ping", headers={"X-Forwarded-For": "198.51.100.1"})
        other = await http.get("/fapi/v1/ping", headers={"X-Forwarded-For": "198.51.100.2"})

    assert one.status_code == 429
    assert "IP(198.51.100.1)" in one.json()["msg"]
    assert other.headers["X-MBX-USED-WEIGHT-1M"] == "1"


@pytest.mark.parametrize(
    ("path", "weight"), [("/stampede/liquidations", 1), ("/stampede/audit", 10)]
)
async def test_the_operator_reads_anyone_may_call_go_through_the_rate_limits(
    http: httpx.AsyncClient, path: str, weight: int
) -> None:
    """Open to any client like the Binance routes, and the audit scans every account."""
    response = await http.get(path)

    assert response.headers["X-MBX-USED-WEIGHT-1M"] == str(weight)


async def test_the_operator_reads_outside_the_rate_limits_when_it_says_so(
    guarded: AppFactory,
) -> None:
    operator = {"X-Stampede-Operator": "sampler", "X-Stampede-Admin-Token": "secret"}
    async with client(guarded(table_with_weight_limit(5), admin_token="secret")) as http:
        sampled = [await http.get("/fapi/v1/ping", headers=operator) for _ in range(10)]
        pretender = await http.get(
            "/fapi/v1/ping", headers={**operator, "X-Stampede-Admin-Token": "guess"}
        )
        for _ in range(5):
            await http.get("/fapi/v1/ping")
        banned = await http.get("/fapi/v1/ping")
        still = await http.get("/fapi/v1/ping", headers=operator)

    assert all(r.status_code == 200 and "X-MBX-USED-WEIGHT-1M" not in r.headers for r in sampled)
    assert pretender.headers["X-MBX-USED-WEIGHT-1M"] == "1", "counted as any other client"
    assert banned.status_code == 429
    assert still.status_code == 200


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/stampede/admin/status"])
async def test_operator_and_documentation_paths_pass_untouched(
    http: httpx.AsyncClient, faults: SetFaults, path: str
) -> None:
    faults.faults[FaultKind.UNAVAILABLE_PCT] = 100

    response = await http.get(path)

    assert response.status_code != 503
    assert "X-MBX-USED-WEIGHT-1M" not in response.headers


async def test_without_rate_limits_nothing_is_counted(guarded: AppFactory) -> None:
    async with client(guarded(rate_limits=False)) as http:
        response = await http.get("/fapi/v1/ping")

    assert response.status_code == 200
    assert "X-MBX-USED-WEIGHT-1M" not in response.headers


# -- concurrency ---------------------------------------------------------------------------------


async def test_requests_past_the_concurrency_cap_are_refused_at_once(
    guarded: AppFactory, bus: GatedBus
) -> None:
    app = guarded(api_concurrency=2)
    bus.gate.clear()
    async with client(app) as http:
        held = [asyncio.create_task(place_order(http)) for _ in range(2)]
        while len(bus.commands) < 2:
            await asyncio.sleep(0.001)
        assert app.state.edge.in_flight == 2

        refused = await http.get("/fapi/v1/ping")

        bus.gate.set()
        assert [r.status_code for r in await asyncio.gather(*held)] == [200, 200]
        assert (await http.get("/fapi/v1/ping")).status_code == 200
    assert body(refused) == (503, -1000, SERVICE_UNAVAILABLE_MSG)
    assert "X-MBX-USED-WEIGHT-1M" not in refused.headers  # refused before it was counted
    assert app.state.edge.in_flight == 0


# -- API faults ----------------------------------------------------------------------------------


async def test_unavailable_requests_are_refused_before_they_run(
    http: httpx.AsyncClient, bus: GatedBus, faults: SetFaults
) -> None:
    faults.faults[FaultKind.UNAVAILABLE_PCT] = 100

    refused = await place_order(http)

    assert body(refused) == (503, -1000, SERVICE_UNAVAILABLE_MSG)
    assert refused.headers["X-MBX-ORDER-COUNT-1M"] == "1"
    assert bus.commands == []


async def test_unknown_errors_are_answered_after_the_request_ran(
    http: httpx.AsyncClient, bus: GatedBus, faults: SetFaults
) -> None:
    faults.faults[FaultKind.UNKNOWN_ERROR_PCT] = 100

    answered = await place_order(http)

    assert body(answered) == (503, -1000, UNKNOWN_ERROR_MSG)
    assert answered.headers["X-MBX-ORDER-COUNT-1M"] == "1"
    assert len(bus.commands) == 1
    failed = await http.get("/fapi/v1/depth")
    assert failed.status_code == 400, "a request that failed by itself keeps its own answer"


async def test_percentages_hold_and_repeat_with_the_seed(
    guarded: AppFactory, faults: SetFaults
) -> None:
    faults.faults[FaultKind.UNAVAILABLE_PCT] = 30
    runs = []
    for _ in range(2):
        async with client(guarded(rate_limits=False)) as http:
            runs.append([(await http.get("/fapi/v1/ping")).status_code for _ in range(500)])

    assert 0.25 < runs[0].count(503) / 500 < 0.35
    assert runs[0] == runs[1]


async def test_api_delay_is_added_to_every_request(
    http: httpx.AsyncClient, faults: SetFaults
) -> None:
    faults.faults[FaultKind.API_DELAY_MS] = 80
    started = time.perf_counter()

    await http.get("/fapi/v1/ping")

    assert time.perf_counter() - started >= 0.08


# -- request size and unknown keys ---------------------------------------------------------------


async def test_a_body_over_64_kb_is_413_and_runs_nothing(
    http: httpx.AsyncClient, bus: GatedBus
) -> None:
    oversized = signed_query(TRADER, **ORDER) + "&pad=" + "x" * 70_000

    refused = await http.post("/fapi/v1/order", content=oversized, headers={**key_header(), **FORM})

    assert body(refused)[:2] == (413, -1000)
    assert bus.commands == []


async def test_a_chunked_body_is_cut_off_at_64_kb(http: httpx.AsyncClient, bus: GatedBus) -> None:
    sent: list[int] = []

    async def endless() -> AsyncIterator[bytes]:
        for _ in range(1_000):
            sent.append(1)
            yield b"x" * 8_192

    refused = await http.post("/fapi/v1/order", content=endless(), headers={**key_header(), **FORM})

    assert body(refused)[:2] == (413, -1000)
    assert len(sent) < 16  # read up to the cap, not the 8 MB on offer
    assert bus.commands == []


@pytest.mark.parametrize(("key", "code"), [("x" * 64, -2015), ("short", -2014), (None, -2014)])
async def test_a_request_with_a_body_and_no_known_key_is_refused_before_the_body_is_read(
    http: httpx.AsyncClient, key: str | None, code: int
) -> None:
    read: list[int] = []

    async def watched() -> AsyncIterator[bytes]:
        read.append(1)
        yield signed_query(TRADER, **ORDER).encode()

    headers = FORM if key is None else {"X-MBX-APIKEY": key, **FORM}
    refused = await http.post("/fapi/v1/order", content=watched(), headers=headers)

    assert body(refused)[1] == code
    assert read == []


async def test_operator_api_bodies_are_capped_too(http: httpx.AsyncClient) -> None:
    refused = await http.post("/stampede/faults", content=b"{" + b" " * 70_000 + b"}")

    assert body(refused)[:2] == (413, -1000)
