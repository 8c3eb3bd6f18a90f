"""Every failure leaves as Binance's `{"code", "msg"}`, whatever raised it."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from exchange_mock.api.errors import install_error_handlers
from exchange_mock.errors import Code, ExchangeError


def app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/refused")
    async def refused() -> None:
        raise ExchangeError(
            Code.TOO_MANY_ORDERS, "Too many new orders.", headers={"Retry-After": "3"}
        )

    @app.get("/timeout")
    async def timeout() -> None:
        raise ExchangeError(Code.TIMEOUT, "Timeout waiting for response.", http_status=408)

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    @app.get("/typed")
    async def typed(limit: int) -> dict[str, int]:
        return {"limit": limit}

    return app


async def get(path: str, method: str = "GET") -> httpx.Response:
    transport = httpx.ASGITransport(app=app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        return await http.request(method, path)


def binance_shaped(response: httpx.Response) -> dict[str, object]:
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"code", "msg"}
    assert isinstance(body["code"], int) and body["code"] < 0
    assert isinstance(body["msg"], str) and body["msg"]
    return body


async def test_an_exchange_error_keeps_its_status_code_message_and_headers() -> None:
    response = await get("/refused")
    assert response.status_code == 429
    assert binance_shaped(response) == {"code": -1015, "msg": "Too many new orders."}
    assert response.headers["Retry-After"] == "3"


async def test_a_backend_timeout_is_408_with_1007() -> None:
    response = await get("/timeout")
    assert (response.status_code, binance_shaped(response)["code"]) == (408, -1007)


async def test_an_unknown_path_is_404_binance_shaped() -> None:
    response = await get("/fapi/v1/nothing")
    assert response.status_code == 404
    assert binance_shaped(response)["msg"] == "Path /fapi/v1/nothing, Method GET is invalid"


async def test_a_wrong_method_is_405_binance_shaped_with_allow() -> None:
    response = await get("/refused", method="DELETE")
    assert response.status_code == 405
    binance_shaped(response)
    assert response.headers["allow"] == "GET, OPTIONS"


async def test_a_fastapi_validation_error_is_1102_naming_the_parameter() -> None:
    response = await get("/typed?limit=many")
    assert response.status_code == 400
    assert binance_shaped(response) == {
        "code": -1102,
        "msg": "Mandatory parameter 'limit' was not sent, was empty/null, or malformed.",
    }


async def test_an_unexpected_exception_is_500_with_1000_not_a_bare_page() -> None:
    response = await get("/broken")
    assert response.status_code == 500
    assert binance_shaped(response) == {
        "code": -1000,
        "msg": "An unknown error occured while processing the request.",
    }
