from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import gevent
import pytest

from loadtests.accounts import ApiAccount
from loadtests.metrics import Outcome
from loadtests.users.client import (
    API_KEY_HEADER,
    FORWARDED_FOR_HEADER,
    Call,
    ExchangeClient,
    Security,
    reply_of,
)
from loadtests.users.signing import signature

ACCOUNT = ApiAccount(name="7", api_key="key7", secret="secret7")


@dataclass
class FakeResponse:
    status_code: int
    content: bytes | None = b"{}"
    headers: dict[str, str] = field(default_factory=dict)
    error: BaseException | None = None


@dataclass
class FakeSession:
    response: FakeResponse
    sent: list[tuple[str, str, str | None, dict[str, str]]] = field(default_factory=list)

    def request(
        self, method: str, url: str, name: str | None = None, *, headers: dict[str, str]
    ) -> Any:
        self.sent.append((method, url, name, headers))
        return self.response


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (200, b"{}", Outcome.SUCCESS),
        (400, b'{"code":-2019,"msg":"Margin is insufficient."}', Outcome.REJECTED),
        (429, b'{"code":-1003,"msg":"Too many requests"}', Outcome.RATE_LIMITED_429),
        (418, b'{"code":-1003,"msg":"banned"}', Outcome.BANNED_418),
        (408, b'{"code":-1007,"msg":"Timeout"}', Outcome.TIMEOUT_408),
        (503, b'{"code":-1008,"msg":"throttled"}', Outcome.THROTTLED_1008),
        (503, b'{"code":-1000,"msg":"Service Unavailable."}', Outcome.UNAVAILABLE_503),
        (
            503,
            b'{"code":-1001,"msg":"Internal error; unable to process your request. Please '
            b'try again."}',
            Outcome.UNAVAILABLE_503,
        ),
        (503, b'{"code":-1000,"msg":"Unknown error, please..."}', Outcome.UNAVAILABLE_503_UNKNOWN),
        (502, b"<html>bad gateway</html>", Outcome.OTHER),
    ],
)
def test_every_answer_is_classified(status: int, body: bytes, outcome: Outcome) -> None:
    reply = reply_of(FakeResponse(status, body))
    assert reply.outcome is outcome
    assert reply.ok is (outcome is Outcome.SUCCESS)


def test_no_answer_is_a_client_timeout_or_a_connection_error() -> None:
    timed_out = reply_of(FakeResponse(0, None, error=gevent.Timeout(1)))
    refused = reply_of(FakeResponse(0, None, error=ConnectionRefusedError()))
    reset = reply_of(FakeResponse(0, None, error=TimeoutError()))
    assert (timed_out.outcome, refused.outcome, reset.outcome) == (
        Outcome.CLIENT_TIMEOUT, Outcome.CONNECTION_ERROR, Outcome.CLIENT_TIMEOUT,
    )  # fmt: skip
    assert timed_out.status == 0 and timed_out.body == b""


def test_a_reply_keeps_the_binance_error_and_retry_after() -> None:
    reply = reply_of(
        FakeResponse(429, b'{"code":-1003,"msg":"Too many"}', headers={"Retry-After": "4"})
    )
    assert (reply.code, reply.msg, reply.retry_after_s) == (-1003, "Too many", 4.0)


def test_signed_calls_carry_key_timestamp_and_the_signature_of_the_query_sent() -> None:
    session = FakeSession(FakeResponse(200))
    client = ExchangeClient(
        session, account=ACCOUNT, client_ip="198.18.0.9", clock_offset_ms=500, clock=lambda: 1000.0
    )
    call = Call("order", "POST", "/fapi/v1/order", (("symbol", "BTCUSDT"),), Security.SIGNED)
    assert client.send(call).ok
    method, url, name, headers = session.sent[0]
    assert (method, name) == ("POST", "order")
    assert headers == {API_KEY_HEADER: "key7", FORWARDED_FOR_HEADER: "198.18.0.9"}
    parts = urlsplit(url)
    assert parts.path == "/fapi/v1/order"
    signed, _, sig = parts.query.rpartition("&signature=")
    assert sig == signature("secret7", signed)
    assert dict(parse_qsl(signed)) == {
        "symbol": "BTCUSDT", "recvWindow": "10000", "timestamp": "1000500",
    }  # fmt: skip


def test_public_and_key_only_calls_are_not_signed() -> None:
    session = FakeSession(FakeResponse(200))
    client = ExchangeClient(session, account=ACCOUNT)
    client.send(Call("depth", "GET", "/fapi/v1/depth", (("symbol", "BTCUSDT"), ("limit", "5"))))
    client.send(Call("listenKey", "POST", "/fapi/v1/listenKey", security=Security.API_KEY))
    assert [url for _, url, _, _ in session.sent] == [
        "/fapi/v1/depth?symbol=BTCUSDT&limit=5",
        "/fapi/v1/listenKey",
    ]


def test_a_signed_call_needs_an_account() -> None:
    client = ExchangeClient(FakeSession(FakeResponse(200)))
    with pytest.raises(ValueError, match="no account"):
        client.send(Call("account", "GET", "/fapi/v2/account", security=Security.SIGNED))
