"""The exchange's edge, in front of every Binance route: a cap on the requests one worker process
handles at once, Binance's rate limits, and the faults injected at the API.

A plain ASGI middleware rather than a FastAPI dependency: routes answer with Response objects
of their own, and only a middleware sees every answer to add the rate-limit headers to it. A
request it refuses costs no routing, no parameter parsing and no authentication.

For each request outside the operator namespace and the docs, in this order:

1. over `api_concurrency` requests in flight in this process: 503 "Service Unavailable." at
   once, with no I/O, rather than a queue without bound;
2. the rate limits (one Redis round trip): 429 or 418 with Retry-After; not for the operator,
   when it says so (`admin_auth.py`);
3. `unavailable_pct`: 503 "Service Unavailable.", and the request does not run;
4. `api_delay_ms`, then the route;
5. `unknown_error_pct`: a successful answer is replaced by 503 "Unknown error, ...": the
   request ran, the client cannot tell.

Every answer after step 2 carries the rate-limit headers (`X-MBX-USED-WEIGHT-1M`, and the
order counts on new orders).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exchange_mock.accounts import AccountBook
from exchange_mock.api.admin_auth import is_operator
from exchange_mock.api.client_ip import client_ip
from exchange_mock.api.errors import error_response
from exchange_mock.api.ratelimit import RateLimiter, RateLimitTable
from exchange_mock.errors import Code, ExchangeError
from exchange_mock.faults.kinds import FaultKind, FaultReader
from exchange_mock.settings import Settings

OUTSIDE = ("/stampede/", "/docs", "/redoc", "/openapi.json")
"""Paths the edge leaves alone: the operator API must answer however overloaded the exchange."""
SERVICE_UNAVAILABLE_MSG = "Service Unavailable."
"""Binance's 503 for a request that was not executed."""
UNKNOWN_ERROR_MSG = "Unknown error, please check your request or try again later."
"""Binance's 503 for a request whose execution status is unknown (here: it was executed)."""


def _unavailable() -> ExchangeError:
    return ExchangeError(Code.UNKNOWN, SERVICE_UNAVAILABLE_MSG, http_status=503)


def _unknown_error() -> ExchangeError:
    return ExchangeError(Code.UNKNOWN, UNKNOWN_ERROR_MSG, http_status=503)


class Edge:
    """What the middleware consults for each request, built once the node is up. `in_flight`
    counts this process's requests past the concurrency check, `shed` those it turned away
    there (the process's vitals report both)."""

    def __init__(
        self,
        settings: Settings,
        accounts: AccountBook,
        table: RateLimitTable,
        faults: FaultReader,
        limiter: RateLimiter | None,
    ) -> None:
        self.capacity = settings.api_concurrency
        self.in_flight = 0
        self.shed = 0
        self.faults = faults
        self._settings = settings
        self._trusted_proxies = settings.trusted_proxies
        self._accounts = accounts
        self._table = table
        self._limiter = limiter
        self._rng = random.Random(settings.random_seed)

    def chance(self, kind: FaultKind) -> bool:
        """Whether this request is one of the fault's percent (seeded: a run can be repeated)."""
        pct = self.faults.value(kind)
        return pct > 0 and self._rng.random() * 100 < pct

    async def admit(self, scope: Scope) -> dict[str, str]:
        """Count the request against the rate limits: the headers for its answer, or the 429 or
        418 (ExchangeError) to answer instead."""
        if self._limiter is None:
            return {}
        api_key: str | None = None
        forwarded: str | None = None
        operator = False
        token: str | None = None
        for name, value in scope["headers"]:
            if name == b"x-mbx-apikey":
                api_key = value.decode("latin-1")
            elif name == b"x-forwarded-for":
                text = value.decode("latin-1")
                forwarded = text if forwarded is None else f"{forwarded},{text}"
            elif name == b"x-stampede-operator":
                operator = True
            elif name == b"x-stampede-admin-token":
                token = value.decode("latin-1")
        peer = scope.get("client")
        if operator and is_operator(self._settings, peer[0] if peer else None, token):
            return {}
        ip = client_ip(peer[0] if peer else None, forwarded, self._trusted_proxies)
        cost = self._table.cost(scope["method"], scope["path"])
        weight = cost.weight_for(dict(parse_qsl(scope["query_string"].decode("latin-1"))))
        account = self._accounts.by_api_key(api_key) if api_key else None
        return await self._limiter.admit(
            ip, weight, None if account is None else account.id, cost.order
        )


class EdgeMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(OUTSIDE):
            await self.app(scope, receive, send)
            return
        edge: Edge = scope["app"].state.edge
        if edge.in_flight >= edge.capacity:
            edge.shed += 1
            await _answer(scope, receive, send, _unavailable())
            return
        edge.in_flight += 1
        try:
            await self._guarded(edge, scope, receive, send)
        finally:
            edge.in_flight -= 1

    async def _guarded(self, edge: Edge, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            headers = await edge.admit(scope)
        except ExchangeError as refusal:
            await _answer(scope, receive, send, refusal)
            return
        if edge.chance(FaultKind.UNAVAILABLE_PCT):
            await _answer(scope, receive, send, _unavailable(), headers)
            return
        delay_ms = edge.faults.value(FaultKind.API_DELAY_MS)
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000)
        fail_after = edge.chance(FaultKind.UNKNOWN_ERROR_PCT)
        if headers or fail_after:
            send = _amended(scope, receive, send, headers, fail_after)
        await self.app(scope, receive, send)


def _amended(
    scope: Scope, receive: Receive, send: Send, headers: dict[str, str], fail_after: bool
) -> Send:
    """`send`, adding `headers` to the route's answer, or replacing a successful answer with
    the unknown-error 503 when `fail_after`."""
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    replaced = False

    async def amended(message: Message) -> None:
        nonlocal replaced
        if replaced:
            return  # the rest of the route's own answer
        if message["type"] == "http.response.start":
            if fail_after and message["status"] < 400:
                replaced = True
                await _answer(scope, receive, send, _unknown_error(), headers)
                return
            message["headers"] = [*message.get("headers", ()), *raw]
        await send(message)

    return amended


async def _answer(
    scope: Scope,
    receive: Receive,
    send: Send,
    error: ExchangeError,
    headers: Mapping[str, str] | None = None,
) -> None:
    response = error_response(
        error.http_status, error.code, error.msg, {**(headers or {}), **error.headers}
    )
    await response(scope, receive, send)
