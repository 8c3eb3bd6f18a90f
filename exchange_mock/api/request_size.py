"""How much of a request the exchange will read: a Binance request is a few hundred bytes, and a
body is held in memory whole before it is parsed, so an unbounded one lets a single client
exhaust a worker's memory.

A body declared larger than the cap is refused before any of it is read; one sent without a
length (chunked) is read up to the cap and refused there. Either way the client gets a
Binance-shaped 413. The request line and headers are capped in the HTTP protocol itself
(`HeadCappedProtocol`), since the server holds them whole before the app sees the request.
"""

from __future__ import annotations

import orjson
from starlette.types import Message, Receive, Scope
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from exchange_mock.errors import Code, ExchangeError

MAX_BODY_BYTES = 64 * 1024
MAX_HEAD_BYTES = 16 * 1024
"""Request line and headers together: h11's default, and far beyond any Binance client's."""
TOO_LARGE_MSG = "Request body is too large."
HEAD_TOO_LARGE_MSG = "Request line or headers are too large."
PROTOCOL = "exchange_mock.api.request_size:HeadCappedProtocol"
"""uvicorn's `http` option, as an import string so that worker processes load it too."""


def too_large() -> ExchangeError:
    return ExchangeError(Code.UNKNOWN, TOO_LARGE_MSG, http_status=413)


def capped(scope: Scope, receive: Receive) -> Receive:
    """`receive` for a request whose body cannot exceed the cap: itself when the declared
    length is within it (the server reads no more than declared) or there is no body, a
    counting wrapper for a chunked body. Raises the 413 for a declared length over the cap."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            if not value.isdigit() or int(value) > MAX_BODY_BYTES:
                raise too_large()
            return receive
        if name == b"transfer-encoding":
            return _counting(receive)
    return receive  # HTTP/1.1: neither header, no body


def _counting(receive: Receive) -> Receive:
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        received += len(message.get("body", b""))
        if received > MAX_BODY_BYTES:
            raise too_large()
        return message

    return counted


class _HeadTooLarge(Exception):
    pass


class HeadCappedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, which holds a request line and headers of any size, with
    both capped at `MAX_HEAD_BYTES`: over it, a Binance-shaped 400 and the connection closed."""

    _head_bytes = 0
    _head_too_large = False

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value))
        super().on_header(name, value)

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES:
            self._head_too_large = True
            raise _HeadTooLarge  # the parser stops and reports it as an invalid request

    def send_400_response(self, msg: str) -> None:
        if not self._head_too_large:
            super().send_400_response(msg)
            return
        body = orjson.dumps({"code": int(Code.UNKNOWN), "msg": HEAD_TOO_LARGE_MSG})
        self.transport.write(
            b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body)
        )
        self.transport.close()
