"""The exchange's edge, in front of every Binance route: a cap on the requests one worker process
handles at once, Binance's rate limits, and the faults injected at the API.

A plain ASGI middleware rather than a FastAPI dependency: routes answer with Response objects
of their own, and only a middleware sees every answer to add the rate-limit headers to it. A
request it refuses costs no routing, no parameter parsing and no authentication.

Every request's body is capped (`request_size`), the operator API's included. Then, for each
request outside the operator namespace and the docs, in this order:

1. over `api_concurrency` requests in flight in this process: 503 "Service Unavailable." at
   once, with no I/O, rather than a queue without bound;
2. a request with a body (POST, PUT, DELETE) without a known API key is refused (-2014,
   -2015) before its body is read, still charged to its IP;
3. the rate limits (one Redis round trip): 429 or 418 with Retry-After; not for the operator,
   when it says so (`admin_auth.py`). The IP's weight is
   charged for every request; a new order counts toward its account's ORDERS limits only when
   signed with the account's secret, so a client that knows another's API key cannot spend
   that account's budget (the edge reads an order's body to check); 503 -1001 when Redis
   cannot be reached, -1008 when it is full;
4. `unavailable_pct`: 503 "Service Unavailable.", and the request does not run;
5. `api_delay_ms`, then the route;
6. `unknown_error_pct`: a successful answer is replaced by 503 "Unknown error, ...": the
   request ran, the client cannot tell.

Every answer after step 3 carries the rate-limit headers (`X-MBX-USED-WEIGHT-1M`, and the
order counts on new orders).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from urllib.parse import parse_qsl

from redis.exceptions import RedisError
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exchange_mock.accounts import AccountBook
from exchange_mock.api import request_size
from exchange_mock.api.admin_auth import is_operator
from exchange_mock.api.auth import account_for_key, api_key_of, read_body, signed_by
from exchange_mock.api.client_ip import client_ip
from exchange_mock.api.errors import error_response, redis_refusal
from exchange_mock.api.options import allow
from exchange_mock.api.ratelimit import RateLimiter, RateLimitTable
from exchange_mock.errors import Code, ExchangeError
from exchange_mock.faults.kinds import FaultKind, FaultReader
from exchange_mock.settings import Settings

OUTSIDE = ("/stampede/", "/docs", "/redoc", "/openapi.json")
"""Paths the edge leaves alone: the operator API must answer however overloaded the exchange."""
OPEN_OPERATOR_READS = frozenset({"/stampede/audit", "/stampede/liquidations"})
"""Operator reads that need no token, so any client may call them: they pay weight like Binance
routes (the audit scans every account), though no fault is injected into them."""
_WITH_BODY = frozenset({"POST", "PUT", "DELETE"})
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

    def check_key(self, scope: Scope) -> None:
        """A request that carries a body acts for an account (every such route does): without
        a known API key it is refused before its body is read, unless no route serves its path
        (the route's own 404 is the answer then)."""
        if scope["method"] in _WITH_BODY:
            try:
                account_for_key(self._accounts, api_key_of(scope))
            except ExchangeError:
                if allow(scope["app"], scope["path"]) is not None:
                    raise

    def reads_body(self, scope: Scope) -> bool:
        """Whether `admit` needs the body: an order's signature decides whose budget it spends."""
        return self._limiter is not None and bool(
            self._table.cost(scope["method"], scope["path"]).order
        )

    async def admit(self, scope: Scope, body: bytes | None) -> dict[str, str]:
        """Count the request against the rate limits: the headers for its answer, or the 429 or
        418 (ExchangeError) to answer instead. The IP pays for every request; an account's
        order budget only for an order whose `body` and query are signed with its secret."""
        if self._limiter is None:
            return {}
        cost = self._table.cost(scope["method"], scope["path"])
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
        relayed = {} if forwarded is None else {"x-forwarded-for": forwarded}
        if operator and is_operator(self._settings, peer[0] if peer else None, token, relayed):
            return {}
        ip = client_ip(peer[0] if peer else None, forwarded, self._trusted_proxies)
        query = scope["query_string"]
        weight = cost.weight_for(dict(parse_qsl(query.decode("latin-1"))))
        account = self._accounts.by_api_key(api_key) if api_key and cost.order else None
        if account is not None and (body is None or not signed_by(account, query, body)):
            account = None
        return await self._limiter.admit(
            ip, weight, None if account is None else account.id, cost.order
        )


class EdgeMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            receive = request_size.capped(scope, receive)
        except ExchangeError as refusal:
            await _answer(scope, receive, send, refusal)
            return
        path = scope["path"]
        if path.startswith(OUTSIDE):
            if path in OPEN_OPERATOR_READS:
                await self._counted(scope["app"].state.edge, scope, receive, send)
                return
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
        body: bytes | None = b""
        refusal: ExchangeError | None = None
        try:
            edge.check_key(scope)
            if edge.reads_body(scope):
                body = await read_body(receive)
                receive = _replay(body, receive)
        except ExchangeError as error:
            body, refusal = None, error
        except ClientDisconnect:
            return
        try:
            headers = await edge.admit(scope, body)
        except ExchangeError as limited:
            await _answer(scope, receive, send, limited)
            return
        except RedisError as error:
            await _redis_failed(error, scope, receive, send)
            return
        if refusal is not None:
            await _answer(scope, receive, send, refusal, headers)
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

    async def _counted(self, edge: Edge, scope: Scope, receive: Receive, send: Send) -> None:
        """The rate limits alone, for an open operator read."""
        try:
            headers = await edge.admit(scope, b"")
        except ExchangeError as limited:
            await _answer(scope, receive, send, limited)
            return
        except RedisError as error:
            await _redis_failed(error, scope, receive, send)
            return
        if headers:
            send = _amended(scope, receive, send, headers, fail_after=False)
        await self.app(scope, receive, send)


async def _redis_failed(error: RedisError, scope: Scope, receive: Receive, send: Send) -> None:
    """Redis unreachable or full while counting the request: Binance's 503, not a crash."""
    answer = redis_refusal(error)
    if answer is None:
        raise error
    await answer(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """`receive` for a route after the edge has read the body: the body once, then whatever
    the client sends next (its disconnect)."""
    unread = True

    async def replayed() -> Message:
        nonlocal unread
        if unread:
            unread = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


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
