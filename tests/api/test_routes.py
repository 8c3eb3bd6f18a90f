"""The routers over HTTP, with an in-memory bus and read model: what each endpoint asks of the
pipeline and how it answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from exchange_mock.api.userstream import listen_key, listen_key_index
from exchange_mock.domain.commands import CancelAllOrders, CancelOrder, PlaceOrder, SetLeverage
from exchange_mock.domain.replies import Done, Rejected
from exchange_mock.errors import Code, ExchangeError
from exchange_mock.store.views import PositionView
from exchange_mock.types import OrderId, OrderStatus
from tests.api.fakes import (
    ACCOUNTS,
    NOW,
    TRADER,
    FakeBus,
    FakeReads,
    account_view,
    client,
    key_header,
    make_app,
    make_context,
    signed_query,
    snapshot,
)

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
LIMIT_ORDER = {
    "symbol": "BTCUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.010",
    "price": "120000",
}


@pytest.fixture
def bus() -> FakeBus:
    return FakeBus()


@pytest.fixture
def reads() -> FakeReads:
    return FakeReads()


@pytest.fixture
async def http(bus: FakeBus, reads: FakeReads) -> AsyncIterator[httpx.AsyncClient]:
    async with client(make_app(make_context(bus, reads))) as http:
        yield http


async def signed(http: httpx.AsyncClient, method: str, path: str, **params: Any) -> httpx.Response:
    """Signed as ccxt signs: GET and DELETE in the query string, POST in a form body."""
    payload = signed_query(TRADER, **params)
    if method == "POST":
        return await http.post(path, content=payload, headers={**key_header(), **FORM})
    return await http.request(method, f"{path}?{payload}", headers=key_header())


def error(response: httpx.Response) -> tuple[int, int]:
    return response.status_code, response.json()["code"]


# -- market data ------------------------------------------------------------------------------


async def test_ping_and_time_answer_from_the_server_clock(http: httpx.AsyncClient) -> None:
    assert (await http.get("/fapi/v1/ping")).json() == {}
    assert (await http.get("/fapi/v1/time")).json() == {"serverTime": NOW}


async def test_exchange_info_lists_the_contracts(http: httpx.AsyncClient) -> None:
    info = (await http.get("/fapi/v1/exchangeInfo")).json()
    assert [s["symbol"] for s in info["symbols"]] == ["BTCUSDT", "ETHUSDT"]
    assert info["rateLimits"][0]["limit"] == 2400


async def test_depth_defaults_to_500_levels_and_refuses_other_limits(
    http: httpx.AsyncClient, reads: FakeReads
) -> None:
    ok = await http.get("/fapi/v1/depth", params={"symbol": "BTCUSDT"})
    assert set(ok.json()) == {"lastUpdateId", "E", "T", "bids", "asks"}
    assert ok.json()["E"] == NOW
    await http.get("/fapi/v1/depth", params={"symbol": "ETHUSDT", "limit": 5})
    assert reads.depth_calls == [("BTCUSDT", 500), ("ETHUSDT", 5)]
    bad = await http.get("/fapi/v1/depth", params={"symbol": "BTCUSDT", "limit": 7})
    assert error(bad) == (400, -1130)
    assert bad.json()["msg"] == "Data sent for parameter 'limit' is not valid."
    assert error(await http.get("/fapi/v1/depth", params={"symbol": "XUSDT"})) == (400, -1121)
    assert error(await http.get("/fapi/v1/depth")) == (400, -1102)


@pytest.mark.parametrize(
    "path", ["/fapi/v1/ticker/price", "/fapi/v2/ticker/price", "/fapi/v1/ticker/24hr",
             "/fapi/v1/premiumIndex"],
)  # fmt: skip
async def test_market_data_is_an_object_for_a_symbol_and_a_list_without(
    http: httpx.AsyncClient, path: str
) -> None:
    one = (await http.get(path, params={"symbol": "ETHUSDT"})).json()
    every = (await http.get(path)).json()
    assert one["symbol"] == "ETHUSDT"
    assert [item["symbol"] for item in every] == ["BTCUSDT", "ETHUSDT"]


# -- orders -----------------------------------------------------------------------------------


async def test_a_new_order_is_validated_stamped_submitted_and_answered_with_the_order(
    http: httpx.AsyncClient, bus: FakeBus
) -> None:
    bus.replies.append(Done(orders=(snapshot(),)))
    response = await signed(
        http, "POST", "/fapi/v1/order", newClientOrderId="my-order", **LIMIT_ORDER
    )
    assert response.status_code == 200
    assert (response.json()["orderId"], response.json()["status"]) == (42, "NEW")
    [command] = bus.commands
    assert isinstance(command, PlaceOrder)
    assert (command.account, command.qty, command.price, command.ts) == (
        TRADER.id,
        10,
        1_200_000,
        NOW,
    )


async def test_an_order_the_filters_refuse_never_reaches_the_engine(
    http: httpx.AsyncClient, bus: FakeBus
) -> None:
    response = await signed(http, "POST", "/fapi/v1/order", **{**LIMIT_ORDER, "price": "100.00"})
    assert error(response) == (400, -4013)
    assert bus.commands == []


async def test_the_engines_refusal_is_the_clients_400(
    http: httpx.AsyncClient, bus: FakeBus
) -> None:
    bus.replies.append(Rejected(code=-2019, msg="Margin is insufficient."))
    response = await signed(http, "POST", "/fapi/v1/order", **LIMIT_ORDER)
    assert error(response) == (400, -2019)
    assert response.json()["msg"] == "Margin is insufficient."


async def test_a_bus_timeout_reaches_the_client_as_408_with_1007(
    http: httpx.AsyncClient, bus: FakeBus
) -> None:
    bus.replies.append(ExchangeError(Code.TIMEOUT, "Timeout waiting.", http_status=408))
    assert error(await signed(http, "POST", "/fapi/v1/order", **LIMIT_ORDER)) == (408, -1007)


async def test_cancel_goes_through_the_bus_by_order_id(
    http: httpx.AsyncClient, bus: FakeBus
) -> None:
    bus.replies.append(Done(orders=(snapshot(status=OrderStatus.CANCELED),)))
    response = await signed(http, "DELETE", "/fapi/v1/order", symbol="BTCUSDT", orderId=42)
    assert response.json()["status"] == "CANCELED"
    assert bus.commands == [CancelOrder(TRADER.id, "BTCUSDT", OrderId(42), None, NOW)]


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_an_order_id_beyond_64_bits_is_1100_and_reaches_no_engine(
    http: httpx.AsyncClient, bus: FakeBus, method: str
) -> None:
    response = await signed(
        http, method, "/fapi/v1/order", symbol="BTCUSDT", orderId=99999999999999999999
    )
    assert error(response) == (400, -1100)
    assert bus.commands == []


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_an_order_must_be_named_by_order_id_or_client_id(
    http: httpx.AsyncClient, method: str
) -> None:
    response = await signed(http, method, "/fapi/v1/order", symbol="BTCUSDT")
    assert error(response) == (400, -1102)
    assert "'orderId'" in response.json()["msg"]


async def test_query_order_reads_the_read_model_by_either_id(
    http: httpx.AsyncClient, reads: FakeReads
) -> None:
    reads.orders.append(snapshot())
    by_id = await signed(http, "GET", "/fapi/v1/order", symbol="BTCUSDT", orderId=42)
    by_client = await signed(
        http, "GET", "/fapi/v1/order", symbol="BTCUSDT", origClientOrderId="my-order"
    )
    assert by_id.json() == by_client.json()
    assert by_id.json()["clientOrderId"] == "my-order"


@pytest.mark.parametrize(("symbol", "order_id"), [("BTCUSDT", 43), ("ETHUSDT", 42)])
async def test_an_unknown_order_or_one_of_another_symbol_does_not_exist(
    http: httpx.AsyncClient, reads: FakeReads, symbol: str, order_id: int
) -> None:
    reads.orders.append(snapshot())
    response = await signed(http, "GET", "/fapi/v1/order", symbol=symbol, orderId=order_id)
    assert error(response) == (400, -2013)
    assert response.json()["msg"] == "Order does not exist."


async def test_open_orders_of_one_symbol_or_all(http: httpx.AsyncClient, reads: FakeReads) -> None:
    reads.orders += [snapshot(), snapshot(order_id=OrderId(43), symbol="ETHUSDT", price=400_000)]
    every = (await signed(http, "GET", "/fapi/v1/openOrders")).json()
    eth = (await signed(http, "GET", "/fapi/v1/openOrders", symbol="ETHUSDT")).json()
    assert [o["orderId"] for o in every] == [42, 43]
    assert [(o["orderId"], o["price"]) for o in eth] == [(43, "4000.00")]


async def test_cancel_all_answers_binances_code_200_body(
    http: httpx.AsyncClient, bus: FakeBus
) -> None:
    response = await signed(http, "DELETE", "/fapi/v1/allOpenOrders", symbol="ETHUSDT")
    assert response.json() == {
        "code": 200,
        "msg": "The operation of cancel all open order is done.",
    }
    assert bus.commands == [CancelAllOrders(TRADER.id, "ETHUSDT", NOW)]


async def test_leverage_is_set_through_the_bus_and_answered_with_its_notional_cap(
    http: httpx.AsyncClient, bus: FakeBus
) -> None:
    response = await signed(http, "POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=50)
    assert response.json() == {"leverage": 50, "maxNotionalValue": "10000000", "symbol": "BTCUSDT"}
    assert bus.commands == [SetLeverage(TRADER.id, "BTCUSDT", 50, NOW)]


@pytest.mark.parametrize("leverage", [0, 126])
async def test_leverage_outside_1_to_the_first_brackets_maximum_is_4028(
    http: httpx.AsyncClient, bus: FakeBus, leverage: int
) -> None:
    response = await signed(http, "POST", "/fapi/v1/leverage", symbol="BTCUSDT", leverage=leverage)
    assert error(response) == (400, -4028)
    assert response.json()["msg"] == f"Leverage {leverage} is not valid"
    assert bus.commands == []


# -- account ----------------------------------------------------------------------------------

ACCOUNT_READS = [
    "/fapi/v2/positionRisk",
    "/fapi/v3/positionRisk",
    "/fapi/v2/account",
    "/fapi/v3/account",
    "/fapi/v2/balance",
    "/fapi/v3/balance",
    "/fapi/v1/accountConfig",
    "/fapi/v1/symbolConfig",
]


@pytest.mark.parametrize("path", ACCOUNT_READS)
async def test_every_account_read_carries_its_journal_sequences(
    http: httpx.AsyncClient, path: str
) -> None:
    response = await signed(http, "GET", path)
    assert response.status_code == 200
    assert (
        response.headers["X-Stampede-Read-Seq"],
        response.headers["X-Stampede-Account-Seq"],
        response.headers["X-Stampede-Journal-Seq"],
    ) == ("12", "10", "15")


@pytest.mark.parametrize("path", ACCOUNT_READS)
async def test_account_reads_are_signed(http: httpx.AsyncClient, path: str) -> None:
    assert error(await http.get(path, params={"timestamp": NOW})) == (401, -2014)


async def test_position_risk_v2_lists_every_symbol_and_v3_only_open_ones(
    http: httpx.AsyncClient, reads: FakeReads
) -> None:
    position = PositionView("ETHUSDT", qty=500, cost=2_000 * 10**8, update_time=NOW)
    reads.accounts[TRADER.id] = account_view(TRADER.id, positions={"ETHUSDT": position})
    v2 = (await signed(http, "GET", "/fapi/v2/positionRisk")).json()
    v3 = (await signed(http, "GET", "/fapi/v3/positionRisk")).json()
    btc_only = (await signed(http, "GET", "/fapi/v2/positionRisk", symbol="BTCUSDT")).json()
    assert [row["symbol"] for row in v2] == ["BTCUSDT", "ETHUSDT"]
    assert [(row["symbol"], row["positionAmt"]) for row in v3] == [("ETHUSDT", "0.500")]
    assert [row["symbol"] for row in btc_only] == ["BTCUSDT"]


async def test_leverage_brackets_for_one_symbol_or_all(http: httpx.AsyncClient) -> None:
    one = (await signed(http, "GET", "/fapi/v1/leverageBracket", symbol="ETHUSDT")).json()
    every = (await signed(http, "GET", "/fapi/v1/leverageBracket")).json()
    assert one["symbol"] == "ETHUSDT"
    assert [entry["symbol"] for entry in every] == ["BTCUSDT", "ETHUSDT"]


async def test_the_account_is_one_way_and_cross_margined_with_each_symbols_leverage(
    http: httpx.AsyncClient, reads: FakeReads
) -> None:
    reads.accounts[TRADER.id] = account_view(TRADER.id, leverage={"ETHUSDT": 5})
    config = (await signed(http, "GET", "/fapi/v1/accountConfig")).json()
    every = (await signed(http, "GET", "/fapi/v1/symbolConfig")).json()
    eth = (await signed(http, "GET", "/fapi/v1/symbolConfig", symbol="ETHUSDT")).json()
    assert (config["dualSidePosition"], config["feeTier"]) == (False, 0)
    assert [(row["symbol"], row["marginType"]) for row in every] == [
        ("BTCUSDT", "CROSSED"),
        ("ETHUSDT", "CROSSED"),
    ]
    positions = (await signed(http, "GET", "/fapi/v2/positionRisk", symbol="ETHUSDT")).json()
    assert eth == [
        {
            "symbol": "ETHUSDT",
            "marginType": "CROSSED",
            "isAutoAddMargin": "false",
            "leverage": 5,
            "maxNotionalValue": positions[0]["maxNotionalValue"],
        }
    ]
    assert every[0]["leverage"] == int(
        (await signed(http, "GET", "/fapi/v2/positionRisk", symbol="BTCUSDT")).json()[0]["leverage"]
    )


# -- user data streams ------------------------------------------------------------------------


async def test_a_listen_key_is_stable_per_account_and_resolves_back_to_it(
    http: httpx.AsyncClient,
) -> None:
    first = (await http.post("/fapi/v1/listenKey", headers=key_header())).json()
    again = (await http.post("/fapi/v1/listenKey", headers=key_header())).json()
    assert first == again == {"listenKey": listen_key(TRADER)}
    assert listen_key_index(ACCOUNTS)[first["listenKey"]] == TRADER.id
    other = (await http.post("/fapi/v1/listenKey", headers=key_header(ACCOUNTS.traders[1]))).json()
    assert other != first


async def test_keepalive_and_close_accept_only_the_callers_key(http: httpx.AsyncClient) -> None:
    mine = {"listenKey": listen_key(TRADER)}
    theirs = {"listenKey": listen_key(ACCOUNTS.traders[1])}
    await http.post("/fapi/v1/listenKey", headers=key_header())
    await http.post("/fapi/v1/listenKey", headers=key_header(ACCOUNTS.traders[1]))
    kept = await http.put("/fapi/v1/listenKey", params=mine, headers=key_header())
    closed = await http.delete("/fapi/v1/listenKey", params=mine, headers=key_header())
    foreign = await http.put("/fapi/v1/listenKey", params=theirs, headers=key_header())
    assert (kept.json(), closed.json()) == (mine, {})
    assert error(foreign) == (400, -1125)


async def test_a_keepalive_of_a_key_not_live_is_1125(http: httpx.AsyncClient) -> None:
    mine = {"listenKey": listen_key(TRADER)}
    never_started = await http.put("/fapi/v1/listenKey", params=mine, headers=key_header())
    await http.post("/fapi/v1/listenKey", headers=key_header())
    await http.delete("/fapi/v1/listenKey", params=mine, headers=key_header())
    closed = await http.put("/fapi/v1/listenKey", params=mine, headers=key_header())
    assert error(never_started) == error(closed) == (400, -1125)
    assert error(await http.post("/fapi/v1/listenKey")) == (401, -2014)


# -- documentation ----------------------------------------------------------------------------


async def test_docs_serve_and_document_routes_without_fastapi_parameters(
    http: httpx.AsyncClient,
) -> None:
    assert (await http.get("/docs")).status_code == 200
    paths = (await http.get("/openapi.json")).json()["paths"]
    risk = paths["/fapi/v2/positionRisk"]["get"]
    assert risk["summary"]
    assert "parameters" not in risk
    assert "requestBody" not in paths["/fapi/v1/order"]["post"]


# -- position settings ---------------------------------------------------------------------------


async def test_isolated_margin_is_refused_as_unsupported_for_an_account_without_collateral(
    http: httpx.AsyncClient, reads: FakeReads
) -> None:
    """With USDT alone the account is not in Multi-Assets mode, so Binance's -4168 does not
    apply: the venue says plainly it has no isolated margin."""
    reads.accounts[TRADER.id] = account_view(TRADER.id, collateral={})
    refused = await signed(
        http, "POST", "/fapi/v1/marginType", symbol="BTCUSDT", marginType="ISOLATED"
    )
    assert error(refused) == (400, -1020)
    assert "isolated margin" in refused.json()["msg"]
    reads.accounts[TRADER.id] = account_view(TRADER.id, collateral={"USDE": 10**12})
    multi = await signed(
        http, "POST", "/fapi/v1/marginType", symbol="BTCUSDT", marginType="ISOLATED"
    )
    assert error(multi) == (400, -4168)
