"""A WebSocket client's view of the exchange's streams, for the integration tests: what any real
client (the `websockets` library here) sends and reads."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect

__all__ = ["ClientConnection", "Received", "connect", "next_message", "request", "until", "ws_url"]


def ws_url(http_url: str, path: str) -> str:
    return http_url.replace("http://", "ws://", 1) + path


class Received:
    """A message with the time it arrived (seconds since the epoch, this machine's clock)."""

    def __init__(self, body: Any, at: float) -> None:
        self.body = body
        self.at = at


async def next_message(ws: ClientConnection, timeout_s: float = 5.0) -> Received:
    raw = await asyncio.wait_for(ws.recv(), timeout_s)
    return Received(orjson.loads(raw), time.time())


async def until(
    ws: ClientConnection, wanted: Callable[[Any], bool], timeout_s: float = 5.0
) -> Received:
    """The first message `wanted` accepts, skipping others (marks beat on every connection)."""
    async with asyncio.timeout(timeout_s):
        while True:
            message = await next_message(ws, timeout_s)
            if wanted(message.body):
                return message


async def request(ws: ClientConnection, method: str, *params: Any, rid: int = 1) -> Any:
    """A live request and its answer (data messages in between are skipped)."""
    await ws.send(orjson.dumps({"method": method, "params": list(params), "id": rid}).decode())
    answer = await until(ws, lambda m: isinstance(m, dict) and m.get("id") == rid)
    return answer.body
