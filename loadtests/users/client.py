"""One user's way of talking to the venue, as a Binance client does: parameters in the query
string, signed over the exact string sent, the API key in `X-MBX-APIKEY`, and, when the harness
speaks for many client addresses, the user's own in `X-Forwarded-For`.

Every answer comes back as a `Reply` whose outcome is already classified (`metrics.classify`),
so users decide what to do from one value and never read an HTTP library's exceptions. The
session is Locust's FastHttpSession in a run (it fires Locust's `request` event itself, so the
live UI and CSVs show the familiar stats); anything with the same `request` method will do.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

import orjson

from loadtests.accounts import ApiAccount
from loadtests.metrics import Outcome, classify
from loadtests.users.retry import parse_retry_after
from loadtests.users.signing import Param, encode, signed_query

API_KEY_HEADER = "X-MBX-APIKEY"
FORWARDED_FOR_HEADER = "X-Forwarded-For"


class Security(Enum):
    """Binance's endpoint security types, as far as a client's request differs."""

    PUBLIC = "public"
    API_KEY = "api_key"
    """USER_STREAM: the API key, no signature."""
    SIGNED = "signed"
    """TRADE and USER_DATA: API key, timestamp and signature."""


@dataclass(frozen=True, slots=True)
class Call:
    """One request a user wants to make; its parameters are encoded once, when it is made."""

    name: str
    """The label in Locust's statistics."""
    method: str
    path: str
    params: tuple[Param, ...] = ()
    security: Security = Security.PUBLIC
    query: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "query", encode(self.params))


class Session(Protocol):
    def request(
        self, method: str, url: str, name: str | None = None, *, headers: dict[str, str]
    ) -> Any: ...


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    """0 when no response came."""
    outcome: Outcome
    body: bytes
    headers: Mapping[str, str]
    code: int | None = None
    """The Binance error code of a failed request, when its body had one."""
    msg: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.SUCCESS

    @property
    def retry_after_s(self) -> float | None:
        return parse_retry_after(self.headers.get("Retry-After"))

    def json(self) -> Any:
        return orjson.loads(self.body)


def reply_of(response: Any) -> Reply:
    """Classify what a session returned: a response, or a stand-in carrying the error."""
    status: int = response.status_code or 0
    headers: Mapping[str, str] = response.headers or {}
    body: bytes = (response.content or b"") if status else b""
    code, msg = _error_fields(body) if status and not 200 <= status < 300 else (None, None)
    error = None if status else getattr(response, "error", None)
    outcome = classify(status or None, code, msg, error)
    return Reply(status, outcome, body, headers, code, msg)


def _error_fields(body: bytes) -> tuple[int | None, str | None]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    code, msg = data.get("code"), data.get("msg")
    return (code if isinstance(code, int) else None), (msg if isinstance(msg, str) else None)


class Sender(Protocol):
    """What sends calls for an account: an `ExchangeClient`, or a test's stand-in."""

    def send(self, call: Call) -> Reply: ...


class ExchangeClient:
    """Sends calls for one account (or none, for public data) from one client address."""

    def __init__(
        self,
        session: Session,
        *,
        account: ApiAccount | None = None,
        client_ip: str | None = None,
        clock_offset_ms: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._session = session
        self._account = account
        self._clock_offset_ms = clock_offset_ms
        self._clock = clock
        self._headers: dict[str, str] = {}
        if account is not None:
            self._headers[API_KEY_HEADER] = account.api_key
        if client_ip is not None:
            self._headers[FORWARDED_FOR_HEADER] = client_ip

    @property
    def account(self) -> ApiAccount | None:
        return self._account

    def target(self, call: Call) -> str:
        """The path and query string the call goes out as."""
        if call.security is Security.SIGNED:
            if self._account is None:
                raise ValueError(f"{call.name} is signed and this client has no account")
            timestamp_ms = int(self._clock() * 1000) + self._clock_offset_ms
            query = signed_query(call.query, self._account.secret, timestamp_ms=timestamp_ms)
        elif call.query:
            query = call.query
        else:
            return call.path
        return f"{call.path}?{query}"

    def send(self, call: Call) -> Reply:
        response = self._session.request(
            call.method, self.target(call), name=call.name, headers=self._headers
        )
        return reply_of(response)
