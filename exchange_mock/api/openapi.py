"""The OpenAPI document of the Binance routes: what `/docs` shows a bot author, and what a schema
fuzzer generates requests from.

Routes read their Binance parameters themselves (`params.py`), so FastAPI cannot see them: they
are declared here, as a table by route, and merged into the document FastAPI builds, with the
security every signed route asks for and Binance's error body for each status the edge and the
routes answer with. FastAPI's 422, which these routes never send, is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from exchange_mock.api.auth import MAX_RECV_WINDOW_MS
from exchange_mock.api.filters import CLIENT_ORDER_ID, RESPONSE_TYPES
from exchange_mock.api.klines import INTERVALS
from exchange_mock.api.market_data import OPEN_INTEREST_PERIODS

Schema = dict[str, Any]

LONG: Schema = {"type": "integer", "format": "int64", "minimum": -(2**63), "maximum": 2**63 - 1}
DECIMAL: Schema = {"type": "string", "pattern": r"^[0-9]{1,20}(\.[0-9]{1,20})?$"}
SYMBOL: Schema = {"type": "string", "pattern": "^[A-Z0-9]{1,20}$", "example": "BTCUSDT"}
BOOLEAN: Schema = {"type": "string", "enum": ["true", "false"]}


def _enum(*values: str) -> Schema:
    return {"type": "string", "enum": list(values)}


def _param(name: str, schema: Schema, required: bool = False) -> Schema:
    return {"name": name, "in": "query", "required": required, "schema": schema}


SIGNED_PARAMS = [
    _param("timestamp", LONG, required=True),
    _param("recvWindow", {**LONG, "minimum": 1, "maximum": MAX_RECV_WINDOW_MS}),
    _param("signature", {"type": "string", "pattern": "^[0-9a-f]{64}$"}, required=True),
]
API_KEY_HEADER: Schema = {
    "name": "X-MBX-APIKEY",
    "in": "header",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9]{64}$"},
}

_SYMBOL = _param("symbol", SYMBOL, required=True)
_OPTIONAL_SYMBOL = _param("symbol", SYMBOL)
_ORDER_REF = [_SYMBOL, _param("orderId", LONG), _param("origClientOrderId", {"type": "string"})]
_TIMES = [_param("startTime", LONG), _param("endTime", LONG)]


def _limit(default: int, most: int) -> Schema:
    return _param("limit", {"type": "integer", "minimum": 1, "maximum": most, "default": default})


PUBLIC: dict[str, list[Schema]] = {
    "GET /fapi/v1/ping": [],
    "GET /fapi/v1/time": [],
    "GET /fapi/v1/exchangeInfo": [],
    "GET /fapi/v1/depth": [
        _SYMBOL,
        _param("limit", {"type": "integer", "enum": [5, 10, 20, 50, 100, 500, 1000]}),
    ],
    "GET /fapi/v1/ticker/24hr": [_OPTIONAL_SYMBOL],
    "GET /fapi/v1/ticker/price": [_OPTIONAL_SYMBOL],
    "GET /fapi/v2/ticker/price": [_OPTIONAL_SYMBOL],
    "GET /fapi/v1/premiumIndex": [_OPTIONAL_SYMBOL],
    "GET /fapi/v1/ticker/bookTicker": [_OPTIONAL_SYMBOL],
    "GET /fapi/v1/trades": [_SYMBOL, _limit(500, 1000)],
    "GET /fapi/v1/aggTrades": [
        _SYMBOL, _param("fromId", LONG), *_TIMES, _limit(500, 1000),
    ],
    "GET /fapi/v1/klines": [
        _SYMBOL, _param("interval", _enum(*sorted(INTERVALS)), required=True), *_TIMES,
        _limit(500, 1500),
    ],
    "GET /fapi/v1/fundingRate": [_OPTIONAL_SYMBOL, *_TIMES, _limit(100, 1000)],
    "GET /fapi/v1/openInterest": [_SYMBOL],
    "GET /futures/data/openInterestHist": [
        _SYMBOL, _param("period", _enum(*sorted(OPEN_INTEREST_PERIODS)), required=True),
        *_TIMES, _limit(30, 500),
    ],
}  # fmt: skip
"""Public routes: parameters in the query string, no key."""

SIGNED: dict[str, list[Schema]] = {
    "POST /fapi/v1/order": [
        _SYMBOL,
        _param("side", _enum("BUY", "SELL"), required=True),
        _param("type", _enum("LIMIT", "MARKET"), required=True),
        _param("timeInForce", _enum("GTC", "IOC", "FOK", "GTX")),
        _param("quantity", DECIMAL, required=True),
        _param("price", DECIMAL),
        _param("reduceOnly", BOOLEAN),
        _param("positionSide", _enum("BOTH")),
        _param("newClientOrderId", {"type": "string", "pattern": CLIENT_ORDER_ID.pattern}),
        _param("newOrderRespType", _enum(*sorted(RESPONSE_TYPES))),
    ],
    "GET /fapi/v1/order": _ORDER_REF,
    "DELETE /fapi/v1/order": _ORDER_REF,
    "GET /fapi/v1/openOrders": [_OPTIONAL_SYMBOL],
    "DELETE /fapi/v1/allOpenOrders": [_SYMBOL],
    "POST /fapi/v1/leverage": [_SYMBOL, _param("leverage", {"type": "integer"}, required=True)],
    "GET /fapi/v2/positionRisk": [_OPTIONAL_SYMBOL],
    "GET /fapi/v3/positionRisk": [_OPTIONAL_SYMBOL],
    "GET /fapi/v2/account": [],
    "GET /fapi/v3/account": [],
    "GET /fapi/v2/balance": [],
    "GET /fapi/v3/balance": [],
    "GET /fapi/v1/leverageBracket": [_OPTIONAL_SYMBOL],
    "GET /fapi/v1/accountConfig": [],
    "GET /fapi/v1/symbolConfig": [_OPTIONAL_SYMBOL],
    "POST /fapi/v1/batchOrders": [
        _param("batchOrders", {"type": "string", "description": "JSON array of 1-5 orders"},
               required=True),
    ],
    "DELETE /fapi/v1/batchOrders": [
        _SYMBOL,
        _param("orderIdList", {"type": "string", "description": "JSON array of up to 10 ids"}),
        _param("origClientOrderIdList", {"type": "string"}),
    ],
    "GET /fapi/v1/allOrders": [_SYMBOL, _param("orderId", LONG), *_TIMES, _limit(500, 1000)],
    "GET /fapi/v1/userTrades": [
        _SYMBOL, _param("orderId", LONG), _param("fromId", LONG), *_TIMES, _limit(500, 1000),
    ],
    "GET /fapi/v1/income": [
        _OPTIONAL_SYMBOL, _param("incomeType", {"type": "string"}), *_TIMES,
        _param("page", {"type": "integer", "minimum": 1}), _limit(100, 1000),
    ],
    "GET /fapi/v1/forceOrders": [
        _OPTIONAL_SYMBOL, _param("autoCloseType", _enum("LIQUIDATION", "ADL")), *_TIMES,
        _limit(50, 100),
    ],
    "GET /fapi/v1/commissionRate": [_SYMBOL],
    "GET /fapi/v1/adlQuantile": [_OPTIONAL_SYMBOL],
    "GET /fapi/v1/positionSide/dual": [],
    "POST /fapi/v1/positionSide/dual": [_param("dualSidePosition", BOOLEAN, required=True)],
    "POST /fapi/v1/marginType": [
        _SYMBOL, _param("marginType", _enum("ISOLATED", "CROSSED"), required=True),
    ],
}  # fmt: skip
"""TRADE and USER_DATA routes: the key in the header, signed parameters."""

API_KEY_ONLY: dict[str, list[Schema]] = {
    "POST /fapi/v1/listenKey": [],
    "PUT /fapi/v1/listenKey": [_param("listenKey", {"type": "string"})],
    "DELETE /fapi/v1/listenKey": [_param("listenKey", {"type": "string"})],
}
"""USER_STREAM routes: the key in the header, no signature."""

ERROR_BODY: Schema = {
    "type": "object",
    "required": ["code", "msg"],
    "properties": {"code": {"type": "integer"}, "msg": {"type": "string"}},
}
ERRORS = {
    "400": "A parameter missing or not valid, or a request the engine refused (Binance's code)",
    "401": "API key missing or not valid (-2014, -2015)",
    "408": "No answer from the engine in time: execution status unknown (-1007)",
    "413": "Body over 64 KB",
    "418": "IP banned for ignoring Retry-After (-1003)",
    "429": "Over a rate limit (-1003 request weight, -1015 orders)",
    "503": "Overloaded, not executed (-1008, Service Unavailable), or status unknown",
}


def _responses(operation: Schema) -> None:
    operation["responses"].pop("422", None)
    for status, description in ERRORS.items():
        operation["responses"][status] = {
            "description": description,
            "content": {"application/json": {"schema": ERROR_BODY}},
        }


def describe(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """`app.openapi` with the Binance routes described: install as `app.openapi = describe(app)`."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                route = f"{method.upper()} {path}"
                if route in PUBLIC:
                    operation["parameters"] = PUBLIC[route]
                elif route in SIGNED:
                    operation["parameters"] = [API_KEY_HEADER, *SIGNED[route], *SIGNED_PARAMS]
                elif route in API_KEY_ONLY:
                    operation["parameters"] = [API_KEY_HEADER, *API_KEY_ONLY[route]]
                else:
                    continue
                _responses(operation)
        app.openapi_schema = document
        return document

    return openapi
