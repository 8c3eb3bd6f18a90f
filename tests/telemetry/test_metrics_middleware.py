"""The metrics middleware at the HTTP edge: every answer counted by route and status, the edge's
refusals included, WebSocket clients while connected, and `GET /metrics` served ahead of the
edge."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, WebSocket
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exchange_mock.telemetry.asgi import MetricsMiddleware
from tests.telemetry.metrics import sample

REQUESTS = "stampede_exchange_requests_total"
REFUSALS = "stampede_exchange_rate_limit_refusals_total"


class Refusing:
    """Stands for the edge: answers the status in `X-Refuse` before any routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refuse = dict(scope.get("headers", [])).get(b"x-refuse")
        if scope["type"] == "http" and refuse is not None:
            await JSONResponse({"code": -1003}, status_code=int(refuse))(scope, receive, send)
            return
        await self.app(scope, receive, send)


def make_app() -> FastAPI:
    app = FastAPI()

    @app.get("/fapi/v1/ping")
    async def ping() -> dict[str, str]:
        return {}

    @app.get("/items/{item}")
    async def item(item: str) -> dict[str, str]:
        return {"item": item}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    @app.websocket("/ws")
    async def feed(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()

    app.add_middleware(Refusing)
    app.add_middleware(MetricsMiddleware)
    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(make_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as test_client:
        yield test_client


def requests(endpoint: str, status: int) -> float:
    return sample(REQUESTS, endpoint=endpoint, method="GET", status=str(status))


async def test_requests_are_counted_by_route_template_not_by_path(
    client: httpx.AsyncClient,
) -> None:
    before = requests("/items/{item}", 200), requests("/fapi/v1/ping", 200)
    for n in range(3):
        assert (await client.get(f"/items/{n}")).status_code == 200
    await client.get("/fapi/v1/ping")
    assert requests("/items/{item}", 200) == before[0] + 3
    assert requests("/fapi/v1/ping", 200) == before[1] + 1


async def test_paths_no_route_matches_share_one_label(client: httpx.AsyncClient) -> None:
    before = requests("unmatched", 404)
    for path in ("/wp-admin", "/.env", "/fapi/v9/nothing"):
        assert (await client.get(path)).status_code == 404
    assert requests("unmatched", 404) == before + 3


@pytest.mark.parametrize(("status", "kind"), [(429, "limit"), (418, "ban")])
async def test_a_refusal_before_routing_counts_under_its_endpoint_and_as_a_refusal(
    client: httpx.AsyncClient, status: int, kind: str
) -> None:
    before = requests("/fapi/v1/ping", status), sample(REFUSALS, kind=kind)
    assert (
        await client.get("/fapi/v1/ping", headers={"X-Refuse": str(status)})
    ).status_code == status
    assert requests("/fapi/v1/ping", status) == before[0] + 1
    assert sample(REFUSALS, kind=kind) == before[1] + 1


async def test_a_route_that_raises_counts_as_the_500_the_client_gets(
    client: httpx.AsyncClient,
) -> None:
    before = requests("/boom", 500)
    assert (await client.get("/boom")).status_code == 500
    assert requests("/boom", 500) == before + 1
    assert sample("stampede_exchange_requests_in_flight") == 0


async def test_latency_is_observed_per_endpoint(client: httpx.AsyncClient) -> None:
    name = "stampede_exchange_request_duration_seconds_count"
    before = sample(name, endpoint="/fapi/v1/ping", method="GET")
    await client.get("/fapi/v1/ping")
    assert sample(name, endpoint="/fapi/v1/ping", method="GET") == before + 1


async def test_metrics_are_served_ahead_of_the_edge_and_not_counted(
    client: httpx.AsyncClient,
) -> None:
    before = requests("unmatched", 200), requests("/metrics", 200)
    answer = await client.get("/metrics", headers={"X-Refuse": "429"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert "stampede_exchange_requests_total" in answer.text
    assert (requests("unmatched", 200), requests("/metrics", 200)) == before


async def test_websocket_clients_are_counted_while_connected() -> None:
    app = make_app()
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    accepted = asyncio.Event()

    async def send(message: Message) -> None:
        if message["type"] == "websocket.accept":
            accepted.set()

    scope = {
        "type": "websocket", "asgi": {"version": "3.0"}, "path": "/ws", "raw_path": b"/ws",
        "root_path": "", "query_string": b"", "headers": [], "scheme": "ws",
        "server": ("test", 80), "client": ("127.0.0.1", 50_000), "subprotocols": [],
    }  # fmt: skip
    before = sample("stampede_exchange_ws_clients")
    await inbox.put({"type": "websocket.connect"})
    connection = asyncio.create_task(app(scope, inbox.get, send))
    await asyncio.wait_for(accepted.wait(), timeout=5)
    assert sample("stampede_exchange_ws_clients") == before + 1
    await inbox.put({"type": "websocket.receive", "text": "bye"})
    await asyncio.wait_for(connection, timeout=5)
    assert sample("stampede_exchange_ws_clients") == before
