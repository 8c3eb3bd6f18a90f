"""Binance's WebSocket streams: market streams (book, trades, tickers, marks, liquidations)
and user data.

Both of Binance's layouts, under every route prefix newer clients use (`/public`, `/market`,
`/private`) and under none:

- raw: `/ws/<stream>`, `/ws/<a>/<b>`: each message is the payload itself (`/ws/0`, as ccxt
  connects, subscribes nothing);
- combined: `/stream?streams=<a>/<b>`: each message is `{"stream": name, "data": payload}`;
- user data: the listen key as a stream (`/ws/<listenKey>`), or `?listenKey=` on any route
  (`/private/ws?listenKey=...`);
- live requests on any connection: SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, and
  SET_PROPERTY / GET_PROPERTY of `combined`, answered `{"result": ..., "id": n}` or Binance's
  `{"error": {"code", "msg"}, "id": n}`.

Only streams the exchange produces are accepted (`btcusdt@depth7` is refused: accepting any
name would let one client hold any number of subscriptions); a malformed name, or a listen key
that is unknown or not live, is refused too, and a key that expires while connected is answered
`listenKeyExpired`. Binance's published limits hold: at most 1024 streams and 10 incoming
messages per second per connection, a client over the latter being disconnected, and at most
`ws_connections_per_5m` connection attempts per client address (Spot's 300 by default), one
past it refused before the upgrade with HTTP 429 -1003. Messages reach each connection through
this process's `FeedRelay`, so whichever worker a client lands on it sees every event. A client
that falls a bounded queue behind is closed (see `feeds.relay`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketDisconnected

from exchange_mock.api.client_ip import client_ip
from exchange_mock.api.errors import error_response
from exchange_mock.clock import Clock, wall_clock
from exchange_mock.errors import Code, StampedeError
from exchange_mock.feeds import payloads, streams
from exchange_mock.feeds.relay import POLICY_VIOLATION, FeedRelay, Subscriber
from exchange_mock.store.listenkeys import ListenKeys
from exchange_mock.store.wsattempts import ConnectionAttempts
from exchange_mock.types import AccountId

router = APIRouter()

ROUTE_PREFIXES = ("", "/public", "/market", "/private")
MAX_STREAMS = 1024
"""Binance's limit of streams on one connection."""
METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")
COMBINED = "combined"
INVALID_STREAM = "Invalid request: invalid stream"
MAX_MESSAGES_PER_S = 10
"""Binance's limit of incoming messages per connection per second; past it, a disconnect."""
TOO_MANY_MESSAGES = f"Too many messages; current limit is {MAX_MESSAGES_PER_S} per second."
TOO_MANY_CONNECTIONS = "Too many connection attempts from this IP; try again later."
DENIAL_RESPONSE = "websocket.http.response"
"""The ASGI extension that lets a WebSocket route answer the handshake with an HTTP response."""
EXPIRY_CHECK_MS = 5_000
"""The longest a connection goes without checking its listen keys: an expiry is pushed at most
this late, and a connection without one costs no Redis round trip at all."""


class WsCode(IntEnum):
    """Binance's error codes for live WebSocket requests."""

    UNKNOWN_PROPERTY = 0
    INVALID_VALUE_TYPE = 1
    INVALID_REQUEST = 2
    INVALID_JSON = 3


class InvalidStream(StampedeError):
    """A stream name that is malformed, or a listen key that is not any account's."""


class WsRequestError(StampedeError):
    """A live request Binance would refuse, with its code and message."""

    def __init__(self, code: WsCode, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


@dataclass(frozen=True)
class WsContext:
    """What every WebSocket connection of one process shares, built by the app factory."""

    relay: FeedRelay
    listen_keys: Mapping[str, AccountId]
    live: ListenKeys
    market: frozenset[str]
    """The market streams the exchange produces (`streams.produced`)."""
    attempts: ConnectionAttempts
    trusted_proxies: frozenset[str]
    clock: Clock = wall_clock

    async def resolve(self, names: Iterable[str]) -> dict[str, str]:
        """`channels`, refusing a listen key that is not live (expired, or closed)."""
        resolved = self.channels(names)
        for name in resolved:
            if not streams.is_market(name) and not await self.live.remaining_ms(name):
                raise InvalidStream("This listenKey does not exist.")
        return resolved

    def channels(self, names: Iterable[str]) -> dict[str, str]:
        """Stream name (normalized) -> the pub/sub channel that carries it."""
        keys = self.relay.keys
        resolved: dict[str, str] = {}
        for name in names:
            if not streams.is_valid(name):
                raise InvalidStream(INVALID_STREAM)
            if streams.is_market(name):
                stream = streams.normalize(name)
                if stream not in self.market:
                    raise InvalidStream(INVALID_STREAM)
                resolved[stream] = keys.feed(stream)
                continue
            account = self.listen_keys.get(name)
            if account is None:
                raise InvalidStream("This listenKey does not exist.")
            resolved[name] = keys.user_feed(account)
        return resolved


def ws_context_of(websocket: WebSocket) -> WsContext:
    context: WsContext = websocket.app.state.ws
    return context


async def close_listen_key(app: FastAPI, account: AccountId, key: str) -> None:
    """Tell the account's user-data connections, on every worker, that `key` has expired. An
    app serving the REST edge alone has no WebSocket state and no one to tell."""
    context: WsContext | None = getattr(app.state, "ws", None)
    if context is None:
        return
    notice = payloads.listen_key_expired(key, context.clock())
    await context.relay.publish(context.relay.keys.user_feed(account), orjson.dumps(notice))


# -- the connection -------------------------------------------------------------------------


async def serve(websocket: WebSocket, combined: bool, names: list[str]) -> None:
    """Subscribe, accept, then send until the client leaves or is dropped.

    The subscriptions are confirmed before the handshake completes, so a client receives every
    message published after it connected. Sending happens here and only here; requests are read
    on a task of their own, and their answers join the same queue as the data.
    """
    context = ws_context_of(websocket)
    listen_key = websocket.query_params.get("listenKey")
    if not await context.attempts.admit(_client(context, websocket)):
        await refuse_over_cap(websocket, TOO_MANY_CONNECTIONS)
        return
    try:
        wanted = await context.resolve([*names, *([listen_key] if listen_key else [])])
        if len(wanted) > MAX_STREAMS:
            raise InvalidStream(f"Invalid request: more than {MAX_STREAMS} streams")
    except InvalidStream as refused:
        await _close_with_reason(websocket, str(refused))
        return
    relay = context.relay
    subscriber = relay.attach(combined)
    try:
        await relay.subscribe(subscriber, wanted)
        await websocket.accept()
        tasks = (
            asyncio.create_task(_read_requests(context, websocket, subscriber)),
            asyncio.create_task(_expire_listen_keys(context, subscriber)),
        )
        try:
            await _send(websocket, subscriber)
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    finally:
        relay.detach(subscriber)


async def refuse_over_cap(websocket: WebSocket, msg: str) -> None:
    """Turn away a client over a connection cap before the upgrade, as the REST limits do: HTTP
    429 with Binance's body, where the ASGI server supports denial responses (uvicorn does).
    Elsewhere a close before the accept would read as a bare 403, so the connection is accepted
    and closed with the reason instead."""
    if DENIAL_RESPONSE in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(error_response(429, Code.TOO_MANY_REQUESTS, msg))
    else:
        await _close_with_reason(websocket, msg)


async def _close_with_reason(websocket: WebSocket, reason: str) -> None:
    """Accept, then close 1008 with `reason`: the client reads why in the close frame, where a
    close before the accept would give it only an HTTP 403."""
    await websocket.accept()
    await websocket.close(code=POLICY_VIOLATION, reason=reason)


def _client(context: WsContext, websocket: WebSocket) -> str:
    """The client's address, resolved as the REST edge resolves it."""
    forwarded = ",".join(websocket.headers.getlist("x-forwarded-for")) or None
    peer = websocket.client.host if websocket.client else None
    return client_ip(peer, forwarded, context.trusted_proxies)


async def _send(websocket: WebSocket, subscriber: Subscriber) -> None:
    """Frames in order until the subscriber is detached; a client the relay ended (a slow
    consumer, a lost feed) is closed with the relay's code and reason. A client that stops
    reading altogether blocks a send until the server's ping timeout ends the connection; its
    queue stays bounded meanwhile."""
    with contextlib.suppress(WebSocketDisconnect, WebSocketDisconnected):
        async for frame in subscriber.frames():
            await websocket.send_text(frame)
        if subscriber.ending is not None:
            code, reason = subscriber.ending
            await websocket.close(code=code, reason=reason)


async def _expire_listen_keys(context: WsContext, subscriber: Subscriber) -> None:
    """Binance's expiry: a listen key left its TTL without a keepalive pushes `listenKeyExpired`
    and its user data stops, the connection staying open. Published on the key's channel, so
    the relay ends it on every connection that has it, as a DELETE does."""
    notified: set[str] = set()
    while True:
        notified &= set(subscriber.streams.values())  # a key started again can expire again
        wait_ms = EXPIRY_CHECK_MS
        for channel, name in list(subscriber.streams.items()):
            if streams.is_market(name) or name in notified:
                continue
            remaining = await context.live.remaining_ms(name)
            if remaining:
                wait_ms = min(wait_ms, remaining)
                continue
            notified.add(name)
            notice = payloads.listen_key_expired(name, context.clock())
            await context.relay.publish(channel, orjson.dumps(notice))
        await asyncio.sleep(wait_ms / 1000)


async def _read_requests(context: WsContext, websocket: WebSocket, subscriber: Subscriber) -> None:
    """Answer live requests until the client disconnects; then detach it, ending `_send`."""
    window, count = 0, 0
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            second = int(asyncio.get_running_loop().time())
            window, count = second, (count + 1 if second == window else 1)
            if count > MAX_MESSAGES_PER_S:
                context.relay.end(subscriber, POLICY_VIOLATION, TOO_MANY_MESSAGES)
                return
            raw = message.get("text") or message.get("bytes") or b""
            answer = orjson.dumps(await answer_request(context, subscriber, raw)).decode()
            if not subscriber.send(answer):
                context.relay.drop(subscriber)
                return
    finally:
        context.relay.detach(subscriber)


# -- live requests --------------------------------------------------------------------------


async def answer_request(
    context: WsContext, subscriber: Subscriber, raw: str | bytes
) -> dict[str, Any]:
    """The answer to one live request."""
    request_id: int | None = None
    try:
        request = _parse(raw)
        request_id = _request_id(request)
        return {"result": await _perform(context, subscriber, request), "id": request_id}
    except WsRequestError as error:
        return {"error": {"code": int(error.code), "msg": error.msg}, "id": request_id}


def _parse(raw: str | bytes) -> dict[str, Any]:
    try:
        request = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise WsRequestError(WsCode.INVALID_JSON, f"Invalid JSON: {error}") from None
    if not isinstance(request, dict):
        raise WsRequestError(WsCode.INVALID_REQUEST, "Invalid request: expected an object")
    return request


def _request_id(request: dict[str, Any]) -> int | None:
    value = request.get("id")
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    raise WsRequestError(
        WsCode.INVALID_REQUEST, "Invalid request: request ID must be an unsigned integer"
    )


def _stream_params(params: Any) -> list[str]:
    if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
        raise WsRequestError(
            WsCode.INVALID_VALUE_TYPE, "Invalid value type: expected Array of strings"
        )
    return params


async def _perform(context: WsContext, subscriber: Subscriber, request: dict[str, Any]) -> Any:
    method, params = request.get("method"), request.get("params", [])
    relay = context.relay
    match method:
        case "SUBSCRIBE":
            try:
                wanted = await context.resolve(_stream_params(params))
            except InvalidStream as refused:
                raise WsRequestError(WsCode.INVALID_REQUEST, str(refused)) from None
            if len(set(subscriber.streams) | set(wanted.values())) > MAX_STREAMS:
                raise WsRequestError(
                    WsCode.INVALID_REQUEST, f"Invalid request: more than {MAX_STREAMS} streams"
                )
            await relay.subscribe(subscriber, wanted)
            return None
        case "UNSUBSCRIBE":
            names = {streams.normalize(name) for name in _stream_params(params)}
            relay.unsubscribe(subscriber, [c for c, n in subscriber.streams.items() if n in names])
            return None
        case "LIST_SUBSCRIPTIONS":
            return list(subscriber.streams.values())
        case "SET_PROPERTY":
            if not (
                isinstance(params, list)
                and len(params) == 2
                and params[0] == COMBINED
                and isinstance(params[1], bool)
            ):
                raise WsRequestError(
                    WsCode.INVALID_VALUE_TYPE, "Invalid value type: expected Boolean"
                )
            subscriber.combined = params[1]
            return None
        case "GET_PROPERTY":
            if params != [COMBINED]:
                raise WsRequestError(WsCode.UNKNOWN_PROPERTY, "Unknown property")
            return subscriber.combined
    raise WsRequestError(
        WsCode.INVALID_REQUEST,
        f"Invalid request: unknown variant {method}, expected one of {', '.join(METHODS)}",
    )


# -- routes ---------------------------------------------------------------------------------


def _split(streams_path: str) -> list[str]:
    """The stream names a path or `streams=` joins with `/`. A segment of digits alone names a
    connection, not a stream (ccxt opens `/ws/0`, `/ws/1`, ... and subscribes with SUBSCRIBE):
    Binance accepts it and subscribes nothing, so the exchange does the same."""
    return [name for name in streams_path.split("/") if name and not name.isdigit()]


async def raw_streams(websocket: WebSocket) -> None:
    await serve(websocket, False, _split(websocket.path_params.get("streams", "")))


async def combined_streams(websocket: WebSocket) -> None:
    await serve(websocket, True, _split(websocket.query_params.get("streams", "")))


for _prefix in ROUTE_PREFIXES:
    router.add_api_websocket_route(f"{_prefix}/ws", raw_streams)
    router.add_api_websocket_route(f"{_prefix}/ws/{{streams:path}}", raw_streams)
    router.add_api_websocket_route(f"{_prefix}/stream", combined_streams)
