"""Metrics at the HTTP edge, and `GET /metrics` on every API worker.

The outermost middleware, so it sees every answer: the edge's own refusals (503 over the
concurrency cap, 429/418 from the rate limiter) as well as the routes'. It answers `GET /metrics`
itself, before the edge: the scrape is never rate-limited, shed or slowed by an injected fault,
and keeps working when the exchange is overloaded, which is when it matters most.

Requests are labelled by route (`/fapi/v1/order`), never by raw path, so a client probing random
URLs cannot grow the number of series; a path that matches no route is `unmatched`.
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exchange_mock.telemetry.registry import ApiMetrics, Refusal, api_metrics, exposition

METRICS_PATH = "/metrics"
UNMATCHED = "unmatched"
"""The endpoint label of a request no route matches."""
_REFUSALS = {429: Refusal.LIMIT.value, 418: Refusal.BAN.value}


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._metrics: ApiMetrics = api_metrics()
        self._routes: frozenset[str] | None = None
        self._labelled: dict[tuple[str, str, int], tuple[Histogram, Counter]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if scope["path"] == METRICS_PATH and scope["method"] == "GET":
                await _serve_metrics(send)
            else:
                await self._request(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _request(self, scope: Scope, receive: Receive, send: Send) -> None:
        metrics = self._metrics
        status = 500
        """What the client gets when the app raises before answering."""

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        metrics.requests_in_flight.inc()
        try:
            await self.app(scope, receive, observed)
        finally:
            metrics.requests_in_flight.dec()
            duration, count = self._series(self._endpoint(scope), scope["method"], status)
            duration.observe(time.perf_counter() - started)
            count.inc()
            refusal = _REFUSALS.get(status)
            if refusal is not None:
                metrics.rate_limit_refusals.labels(refusal).inc()

    def _series(self, endpoint: str, method: str, status: int) -> tuple[Histogram, Counter]:
        """The labelled duration and count of an answer, looked up once per label set: the
        client library's own lookup takes a lock and validates the labels on every call."""
        key = (endpoint, method, status)
        series = self._labelled.get(key)
        if series is None:
            series = (
                self._metrics.request_duration.labels(endpoint, method),
                self._metrics.requests.labels(endpoint, method, str(status)),
            )
            self._labelled[key] = series
        return series

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        clients = self._metrics.ws_clients
        accepted = False

        async def observed(message: Message) -> None:
            nonlocal accepted
            if message["type"] == "websocket.accept" and not accepted:
                accepted = True
                clients.inc()
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            if accepted:
                clients.dec()

    def _endpoint(self, scope: Scope) -> str:
        """The route's path template; the edge refuses some requests before routing, so a
        request no route has claimed yet is matched against the app's fixed paths."""
        route = scope.get("route")
        if route is not None:
            return str(route.path)
        if self._routes is None:
            self._routes = frozenset(
                path for path in (getattr(r, "path", "") for r in scope["app"].routes) if path
            )
        return scope["path"] if scope["path"] in self._routes else UNMATCHED


async def _serve_metrics(send: Send) -> None:
    body, content_type = exposition()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", content_type.encode("latin-1")),
                (b"content-length", str(len(body)).encode("latin-1")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
