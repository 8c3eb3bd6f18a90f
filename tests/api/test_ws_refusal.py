"""How a WebSocket client over a connection cap is turned away, on an ASGI server with the
denial-response extension and on one without (the real server's side is in
`tests/integration/test_ws_limits.py`)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.websockets import WebSocket

from exchange_mock.api.ws import DENIAL_RESPONSE, TOO_MANY_CONNECTIONS, refuse_over_cap


async def refusal(extensions: dict[str, Any]) -> list[dict[str, Any]]:
    """The ASGI messages `refuse_over_cap` sends for one handshake."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/ws", "headers": [], "extensions": extensions}
    await refuse_over_cap(WebSocket(scope, receive, send), TOO_MANY_CONNECTIONS)
    return sent


async def test_with_denial_responses_it_is_a_429_with_binances_body_and_no_upgrade() -> None:
    start, body = await refusal({DENIAL_RESPONSE: {}})

    assert (start["type"], start["status"]) == ("websocket.http.response.start", 429)
    assert (b"content-type", b"application/json") in start["headers"]
    assert body["type"] == "websocket.http.response.body"
    assert orjson.loads(body["body"]) == {"code": -1003, "msg": TOO_MANY_CONNECTIONS}


async def test_without_them_the_reason_is_in_a_1008_close_not_a_bare_403() -> None:
    accept, close = await refusal({})

    assert accept["type"] == "websocket.accept"
    assert close == {"type": "websocket.close", "code": 1008, "reason": TOO_MANY_CONNECTIONS}
