"""The OpenAPI document describes every Binance route as it behaves: its parameters, its key
and signature, and Binance's error bodies rather than FastAPI's 422."""

from __future__ import annotations

from typing import Any

import pytest

from exchange_mock.app import create_app
from exchange_mock.settings import Settings


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    schema: dict[str, Any] = create_app(Settings()).openapi()
    return schema


def binance_operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, operations in document["paths"].items()
        if path.startswith("/fapi/")
        for method, operation in operations.items()
    }


def test_every_binance_route_declares_its_parameters_and_errors(document: dict[str, Any]) -> None:
    operations = binance_operations(document)
    assert len(operations) >= 24
    for route, operation in operations.items():
        assert "parameters" in operation, route
        assert "422" not in operation["responses"], route
        error = operation["responses"]["400"]["content"]["application/json"]["schema"]
        assert error["required"] == ["code", "msg"], route


def test_signed_routes_ask_for_the_key_timestamp_and_signature(document: dict[str, Any]) -> None:
    new_order = binance_operations(document)["POST /fapi/v1/order"]
    required = {p["name"] for p in new_order["parameters"] if p["required"]}
    assert required == {"X-MBX-APIKEY", "symbol", "side", "type", "quantity", "timestamp",
                        "signature"}  # fmt: skip
    order_id = next(p for p in binance_operations(document)["DELETE /fapi/v1/order"]["parameters"]
                    if p["name"] == "orderId")  # fmt: skip
    assert (order_id["schema"]["minimum"], order_id["schema"]["maximum"]) == (-(2**63), 2**63 - 1)
