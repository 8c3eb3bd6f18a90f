"""Place, query and cancel through real HTTP, the real pipeline and the real read model."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx

from exchange_mock.accounts import AccountBook
from tests.integration.signed import SignedClient


async def best(http: httpx.AsyncClient, symbol: str) -> tuple[Decimal, Decimal]:
    depth = (await http.get("/fapi/v1/depth", params={"symbol": symbol, "limit": 5})).json()
    return Decimal(depth["bids"][0][0]), Decimal(depth["asks"][0][0])


async def eventually(client: SignedClient, path: str, check: Any, **params: Any) -> Any:
    """Read until the read model shows what the pipeline acknowledged (it may lag a little)."""
    async with asyncio.timeout(10):
        while True:
            response = await client.send("GET", path, **params)
            if response.status_code == 200 and check(response.json()):
                return response
            await asyncio.sleep(0.02)


async def test_limit_order_rests_is_queryable_and_cancels(
    http: httpx.AsyncClient, accounts: AccountBook
) -> None:
    client = SignedClient(http, accounts.traders[0])
    bid, _ask = await best(http, "BTCUSDT")
    price = (bid * Decimal("0.98")).quantize(Decimal("0.1"))
    placed = await client.ok(
        "POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
        timeInForce="GTC", quantity="0.002", price=str(price), newClientOrderId="rest-1",
    )  # fmt: skip
    assert placed["status"] == "NEW"
    assert Decimal(placed["price"]) == price
    assert (placed["origQty"], placed["clientOrderId"]) == ("0.002", "rest-1")
    await eventually(
        client, "/fapi/v1/openOrders", lambda orders: [o["orderId"] for o in orders]
        == [placed["orderId"]], symbol="BTCUSDT",
    )  # fmt: skip
    fetched = await client.ok("GET", "/fapi/v1/order", symbol="BTCUSDT", origClientOrderId="rest-1")
    assert fetched["orderId"] == placed["orderId"]
    cancelled = await client.ok(
        "DELETE", "/fapi/v1/order", symbol="BTCUSDT", orderId=placed["orderId"]
    )
    assert cancelled["status"] == "CANCELED"
    again = await client.send(
        "DELETE", "/fapi/v1/order", symbol="BTCUSDT", orderId=placed["orderId"]
    )
    assert (again.status_code, again.json()["code"]) == (400, -2011)


async def test_market_order_fills_and_the_position_follows(
    http: httpx.AsyncClient, accounts: AccountBook
) -> None:
    client = SignedClient(http, accounts.traders[1])
    _bid, ask = await best(http, "ETHUSDT")
    filled = await client.ok(
        "POST", "/fapi/v1/order", symbol="ETHUSDT", side="BUY", type="MARKET", quantity="0.5",
        newOrderRespType="RESULT",
    )  # fmt: skip
    assert filled["status"] == "FILLED"
    assert filled["executedQty"] == "0.500"
    assert abs(Decimal(filled["avgPrice"]) - ask) / ask < Decimal("0.01")
    response = await eventually(
        client, "/fapi/v2/positionRisk",
        lambda rows: any(r["symbol"] == "ETHUSDT" and r["positionAmt"] == "0.500" for r in rows),
    )  # fmt: skip
    assert int(response.headers["X-Stampede-Read-Seq"]) <= int(
        response.headers["X-Stampede-Journal-Seq"]
    )
    closed = await client.ok(
        "POST", "/fapi/v1/order", symbol="ETHUSDT", side="SELL", type="MARKET", quantity="0.5",
        reduceOnly="true",
    )  # fmt: skip
    assert closed["status"] == "FILLED"
    await eventually(
        client, "/fapi/v3/positionRisk",
        lambda rows: not any(r["symbol"] == "ETHUSDT" for r in rows),
    )  # fmt: skip


async def test_bad_input_gets_binance_shaped_errors(
    http: httpx.AsyncClient, accounts: AccountBook
) -> None:
    client = SignedClient(http, accounts.traders[2])
    cases: list[tuple[dict[str, Any], int]] = [
        ({"side": "BUY", "type": "MARKET", "quantity": "1"}, -1102),
        ({"symbol": "DOGEUSDT", "side": "BUY", "type": "MARKET", "quantity": "1"}, -1121),
        ({"symbol": "BTCUSDT", "side": "UP", "type": "MARKET", "quantity": "1"}, -1117),
        ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.0001"}, -1111),
        ({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01",
          "price": "100000.05", "timeInForce": "GTC"}, -4014),
        ({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.001",
          "price": "1000", "timeInForce": "GTC"}, -4164),
        ({"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.001",
          "reduceOnly": "true"}, -2022),
        ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "50"}, -2019),
    ]  # fmt: skip
    for params, code in cases:
        response = await client.send("POST", "/fapi/v1/order", **params)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["code"] == code, (params, response.text)
    unknown = await client.send("GET", "/fapi/v1/order", symbol="BTCUSDT", orderId=987654321)
    assert (unknown.status_code, unknown.json()["code"]) == (400, -2013)
    forged = await http.get(
        "/fapi/v2/balance",
        params={"timestamp": 1, "signature": "00" * 32},
        headers={"X-MBX-APIKEY": accounts.traders[2].api_key},
    )
    assert forged.status_code in (400, 401) and forged.json()["code"] in (-1021, -1022)
    missing = await http.get("/fapi/v1/nothing-here")
    assert missing.status_code == 404 and set(missing.json()) == {"code", "msg"}
