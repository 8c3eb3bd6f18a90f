"""How much of a request the exchange will read: a Binance request is a few hundred bytes, and a
body is held in memory whole before it is parsed, so an unbounded one lets a single client
exhaust a worker's memory.

A body declared larger than the cap is refused before any of it is read; one sent without a
length (chunked) is read up to the cap and refused there. Either way the client gets a
Binance-shaped 413.
"""

from __future__ import annotations

from starlette.types import Message, Receive, Scope

from exchange_mock.errors import Code, ExchangeError

MAX_BODY_BYTES = 64 * 1024
TOO_LARGE_MSG = "Request body is too large."


def too_large() -> ExchangeError:
    return ExchangeError(Code.UNKNOWN, TOO_LARGE_MSG, http_status=413)


def capped(scope: Scope, receive: Receive) -> Receive:
    """`receive` for a request whose body cannot exceed the cap: itself when the declared
    length is within it (the server reads no more than declared), a counting wrapper when no
    length is declared. Raises the 413 for a declared length over the cap."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            if not value.isdigit() or int(value) > MAX_BODY_BYTES:
                raise too_large()
            return receive
    return _counting(receive)


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
