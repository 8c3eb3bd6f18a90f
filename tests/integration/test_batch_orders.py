"""Batches of orders through real HTTP and the real pipeline: each order its own command, the
answer slot by slot, a refused order as its error object, the orders counted as Binance counts
a batch."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx

from exchange_mock.accounts import AccountBook
from tests.integration.signed import SignedClient
from tests.integration.test_orders import best, eventually


def _limit(price: Decimal, **overrides: str) -> dict[str, str]:
    return {
        "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
        "quantity": "0.002", "price": str(price), **overrides,
    }  # fmt: skip


async def test_a_batch_answers_each_order_in_its_slot_and_cancels_in_a_batch(
    http: httpx.AsyncClient, accounts: AccountBook
) -> None:
    client = SignedClient(http, accounts.traders[0])
    bid, _ask = await best(http, "BTCUSDT")
    low = (bid * Decimal("0.95")).quantize(Decimal("0.1"))
    batch = [
        _limit(low, newClientOrderId="batch-a"),
        _limit(low, quantity="0.0021"),  # finer than the lot step
        _limit(low - 1, newClientOrderId="batch-c"),
    ]
    response = await client.send(
        "POST", "/fapi/v1/batchOrders", batchOrders=json.dumps(batch, separators=(",", ":"))
    )
    assert response.status_code == 200, response.text
    first, refused, third = response.json()
    assert (first["status"], first["clientOrderId"]) == ("NEW", "batch-a")
    assert refused == {"code": -1111, "msg": refused["msg"]}
    assert (third["clientOrderId"], Decimal(third["price"])) == ("batch-c", low - 1)
    # Five orders on the 10-second window, one on the minute's, as Binance counts a batch.
    assert int(response.headers["X-MBX-ORDER-COUNT-10S"]) >= 5
    open_ids = {first["orderId"], third["orderId"]}
    await eventually(
        client,
        "/fapi/v1/openOrders",
        lambda rows: open_ids <= {row["orderId"] for row in rows},
        symbol="BTCUSDT",
    )

    cancelled = await client.ok(
        "DELETE", "/fapi/v1/batchOrders", symbol="BTCUSDT",
        orderIdList=json.dumps([first["orderId"], 999_999_999, third["orderId"]]),
    )  # fmt: skip
    assert [slot.get("status") for slot in cancelled] == ["CANCELED", None, "CANCELED"]
    assert cancelled[1] == {"code": -2011, "msg": "Unknown order sent."}


async def test_a_batch_cancels_by_client_order_id(
    http: httpx.AsyncClient, accounts: AccountBook
) -> None:
    client = SignedClient(http, accounts.traders[1])
    bid, _ask = await best(http, "BTCUSDT")
    low = (bid * Decimal("0.95")).quantize(Decimal("0.1"))
    await client.ok(
        "POST", "/fapi/v1/batchOrders",
        batchOrders=json.dumps([_limit(low, newClientOrderId="by-name")]),
    )  # fmt: skip
    [cancelled] = await client.ok(
        "DELETE", "/fapi/v1/batchOrders", symbol="BTCUSDT",
        origClientOrderIdList=json.dumps(["by-name"]),
    )  # fmt: skip
    assert (cancelled["clientOrderId"], cancelled["status"]) == ("by-name", "CANCELED")


async def test_a_malformed_or_oversized_batch_is_refused_whole(
    http: httpx.AsyncClient, accounts: AccountBook
) -> None:
    client = SignedClient(http, accounts.traders[2])
    six = json.dumps([_limit(Decimal(100_000))] * 6)
    for body in (six, "[]", "not json", None):
        refused = await client.send("POST", "/fapi/v1/batchOrders", batchOrders=body)
        assert (refused.status_code, refused.json()["code"]) == (400, -1130), body
    neither = await client.send("DELETE", "/fapi/v1/batchOrders", symbol="BTCUSDT")
    assert neither.json()["code"] == -1102
    eleven = await client.send(
        "DELETE", "/fapi/v1/batchOrders", symbol="BTCUSDT", orderIdList=json.dumps([1] * 11)
    )
    assert eleven.json()["code"] == -1130
