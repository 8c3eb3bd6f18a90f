"""Binance request authentication: API key, HMAC-SHA256 signature, timestamp window.

The signature is checked against the raw bytes received, query string then body, minus the
`signature` parameter itself: clients differ in parameter order and percent-encoding, and a
re-encoded payload would reject some of them. The clock is passed in so the timestamp rule is
testable to the millisecond.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, cast

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from exchange_mock.accounts import AccountBook, ApiAccount
from exchange_mock.api.context import ApiContext, context_of
from exchange_mock.api.params import Params, invalid
from exchange_mock.errors import Code, ExchangeError
from exchange_mock.types import Millis

API_KEY_HEADER = b"x-mbx-apikey"
DEFAULT_RECV_WINDOW_MS = 5_000
MAX_RECV_WINDOW_MS = 60_000
FUTURE_TOLERANCE_MS = 1_000
"""How far ahead of the server clock a timestamp may be (client clocks run fast)."""

_API_KEY = re.compile(r"[A-Za-z0-9]{64}")
_SIGNATURE_PREFIX = b"signature="


def account_for_key(accounts: AccountBook, api_key: str | None) -> ApiAccount:
    if api_key is None or not _API_KEY.fullmatch(api_key):
        raise ExchangeError(Code.BAD_API_KEY_FMT, "API-key format invalid.")
    account = accounts.by_api_key(api_key)
    if account is None:
        raise ExchangeError(
            Code.REJECTED_MBX_KEY, "Invalid API-key, IP, or permissions for action."
        )
    return account


def sign(secret: str, payload: bytes) -> str:
    """Hex HMAC-SHA256 of `payload`: what a client sends as `signature`."""
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def signed_payload(query: bytes, body: bytes) -> bytes:
    """Binance's totalParams: the raw query string then the raw body, without `signature`."""
    return _without_signature(query) + _without_signature(body)


def _without_signature(raw: bytes) -> bytes:
    if _SIGNATURE_PREFIX not in raw:
        return raw
    return b"&".join(part for part in raw.split(b"&") if not part.startswith(_SIGNATURE_PREFIX))


def check_timestamp(params: Params, now: Millis) -> None:
    """Accept when `timestamp < now + 1000` and `now - timestamp <= recvWindow`."""
    timestamp = params.require_integer("timestamp")
    window = params.integer("recvWindow")
    if window is None:
        window = DEFAULT_RECV_WINDOW_MS
    elif not 0 < window <= MAX_RECV_WINDOW_MS:
        raise invalid("recvWindow")
    if not (timestamp < now + FUTURE_TOLERANCE_MS and now - timestamp <= window):
        raise ExchangeError(
            Code.INVALID_TIMESTAMP, "Timestamp for this request is outside of the recvWindow."
        )


def check_signature(secret: str, query: bytes, body: bytes, signature: str) -> None:
    if not _signs(secret, query, body, signature):
        raise ExchangeError(Code.INVALID_SIGNATURE, "Signature for this request is not valid.")


def _signs(secret: str, query: bytes, body: bytes, signature: str) -> bool:
    expected = sign(secret, signed_payload(query, body)).encode()
    return hmac.compare_digest(expected, signature.encode())


def signed_by(account: ApiAccount, query: bytes, body: bytes) -> bool:
    """Whether the request carries the account's signature: its key alone is no proof, since
    anyone who saw one request knows it."""
    signature = Params.parse(query, body).text("signature")
    return signature is not None and _signs(account.secret, query, body, signature)


def authenticate(
    accounts: AccountBook, api_key: str | None, query: bytes, body: bytes, now: Millis
) -> tuple[ApiAccount, Params]:
    """The account a signed request acts for, and its parameters; raises Binance's errors."""
    account = account_for_key(accounts, api_key)
    params = Params.parse(query, body)
    signature = params.require("signature")
    check_timestamp(params, now)
    check_signature(account.secret, query, body, signature)
    return account, params


@dataclass(frozen=True, slots=True)
class AccountCall:
    """A request that acts for an account: the shared context, the account, its parameters."""

    ctx: ApiContext
    account: ApiAccount
    params: Params


async def account_call(scope: Scope, receive: Receive) -> AccountCall:
    """Authenticate a signed request straight from its ASGI scope and body: the headers are
    scanned for the one key they need, and no Request object is built."""
    ctx: ApiContext = scope["app"].state.context
    body = await read_body(receive)
    account, params = authenticate(
        ctx.accounts, api_key_of(scope), scope["query_string"], body, ctx.clock()
    )
    return AccountCall(ctx, account, params)


def api_key_of(scope: Scope) -> str | None:
    """The `X-MBX-APIKEY` header, if sent."""
    for name, value in scope["headers"]:
        if name == API_KEY_HEADER:
            return str(value.decode("latin-1"))
    return None


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def signed(request: Request) -> AccountCall:
    """FastAPI dependency for signed (TRADE / USER_DATA) endpoints."""
    return await account_call(request.scope, request.receive)


async def api_key_only(request: Request) -> AccountCall:
    """FastAPI dependency for USER_STREAM endpoints, which carry the key but no signature."""
    ctx = context_of(request)
    account = account_for_key(ctx.accounts, api_key_of(request.scope))
    params = Params.parse(request.scope["query_string"], await request.body())
    return AccountCall(ctx, account, params)


Signed = Annotated[AccountCall, Depends(signed)]
ApiKeyOnly = Annotated[AccountCall, Depends(api_key_only)]


SignedEndpoint = Callable[[AccountCall], Awaitable[Response]]


class SignedRoute(APIRoute):
    """The route class of routers whose endpoints are all `async def name(call: Signed)`.

    The route authenticates and calls the endpoint itself, and answers through a plain ASGI
    app, without FastAPI's per-request dependency solving and exit stacks: the signed reads are
    a cascade's hottest path (position queries at about 1000x), and that generic machinery cost
    more than the authentication and the read-model round trip together. The endpoint's
    signature still documents the route in OpenAPI, and errors still leave through the app's
    exception handlers.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        call = cast(SignedEndpoint, self.endpoint)

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            response = await call(await account_call(scope, receive))
            await response(scope, receive, send)

        self.app = app
