"""Every failure leaves as Binance's `{"code", "msg"}` body.

Clients such as ccxt read both keys of any 4xx body and crash without them, so FastAPI's own
404/405/422 pages and the bare 500 page are replaced too. Redis being unreachable is not the
client's fault nor a bug: it answers Binance's 503 -1001 (try again), never a 500; nor is Redis
out of memory, which refuses the write: 503 -1008, overloaded.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import orjson
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from exchange_mock.api.options import allow
from exchange_mock.errors import DISCONNECTED_MSG, OVERLOADED_MSG, Code, ExchangeError
from exchange_mock.store.outage import REDIS_DOWN, out_of_memory

log = logging.getLogger(__name__)

CLIENT_CLOSED_REQUEST = 499
"""The status proxies log for a request its client abandoned; it never reaches the client."""
UNKNOWN_MSG = "An unknown error occured while processing the request."
"""Binance's wording, misspelling included: clients match on it."""


def error_response(
    status: int, code: Code, msg: str, headers: Mapping[str, str] | None = None
) -> Response:
    body = orjson.dumps({"code": int(code), "msg": msg})
    return Response(body, status_code=status, media_type="application/json", headers=headers)


async def _on_exchange_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, ExchangeError):
        return await _on_unexpected(request, exc)
    return error_response(exc.http_status, exc.code, exc.msg, exc.headers)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods: the route the client asked for, as Binance names it."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    headers = exc.headers if isinstance(exc, HTTPException) else None
    methods = allow(request.app, request.url.path) if status == 405 else None
    if methods is not None:
        headers = {"Allow": methods}
        if request.method == "OPTIONS":
            return Response(headers=headers)
    msg = f"Path {request.url.path}, Method {request.method} is invalid"
    return error_response(status, Code.UNKNOWN, msg, headers)


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    """Routes read Binance parameters themselves, so this only fires for a route that declared
    one to FastAPI; it still answers in Binance's words."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    name = str(errors[0]["loc"][-1]) if errors and errors[0].get("loc") else "unknown"
    msg = f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    return error_response(400, Code.MANDATORY_PARAM_EMPTY_OR_MALFORMED, msg)


async def _on_client_gone(request: Request, exc: Exception) -> Response:
    """The client hung up before we read its request (a load generator's timeout, under a
    surge): nobody is left to answer and nothing went wrong here, so nothing is logged."""
    return Response(status_code=CLIENT_CLOSED_REQUEST)


def redis_refusal(exc: BaseException) -> Response | None:
    """Binance's answer when Redis is unreachable (-1001) or full (-1008); None for any other
    error. Nothing is logged: each loop logs an outage once, a line per request would drown it."""
    if isinstance(exc, REDIS_DOWN):
        return error_response(503, Code.DISCONNECTED, DISCONNECTED_MSG)
    if out_of_memory(exc):
        return error_response(503, Code.SERVER_BUSY, OVERLOADED_MSG)
    return None


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    refusal = redis_refusal(exc)
    if refusal is not None:
        return refusal
    log.error("unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, Code.UNKNOWN, UNKNOWN_MSG)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ExchangeError, _on_exchange_error)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(ClientDisconnect, _on_client_gone)
    app.add_exception_handler(RedisError, _on_unexpected)
    app.add_exception_handler(Exception, _on_unexpected)
