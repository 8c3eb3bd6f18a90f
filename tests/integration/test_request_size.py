"""Oversized requests against a real exchange process: refused in Binance's shape at the edge,
before the exchange holds them in memory."""

from __future__ import annotations

import json
import socket

import pytest

from tests.integration.conftest import Exchange


def raw_exchange(exchange: Exchange, request: bytes) -> tuple[int, dict[str, object]]:
    """Send `request` as is over one connection; the status and the JSON body answered."""
    with socket.create_connection(("127.0.0.1", exchange.settings.port), timeout=10) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65_536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body)


@pytest.mark.parametrize(
    "oversized",
    [
        b"GET /fapi/v1/ping?pad=" + b"x" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n",
        b"GET /fapi/v1/ping HTTP/1.1\r\nHost: x\r\n"
        + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"x" * 1_000) for i in range(100)),
    ],
    ids=["request line of 100 KB", "headers of 100 KB"],
)
def test_an_oversized_request_head_is_a_binance_400(exchange: Exchange, oversized: bytes) -> None:
    status, body = raw_exchange(exchange, oversized + b"Connection: close\r\n\r\n")

    assert status == 400
    assert body["code"] == -1000


def test_a_request_of_ordinary_size_is_served(exchange: Exchange) -> None:
    headers = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"x" * 100) for i in range(20))
    status, body = raw_exchange(
        exchange,
        b"GET /fapi/v1/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + headers + b"\r\n",
    )

    assert (status, body) == (200, {})
