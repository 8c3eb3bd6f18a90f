"""Dated contracts on a real exchange restarted on a store first started a quarter ago: it lists
the contracts that store fixed, not the calendar's today; the one that has delivered refuses
orders with Binance's -4108; the one still trading is quoted and pays no funding."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from redis import Redis

from exchange_mock.accounts import AccountBook
from exchange_mock.delivery import ContractType, dated_symbol, listing_date, quarterly_delivery
from exchange_mock.redis_server import EmbeddedRedis, free_port
from exchange_mock.server import exchange_process
from exchange_mock.store.keys import Keys
from exchange_mock.store.listing import CALENDAR
from tests.integration.conftest import Exchange, exchange_settings, wait_for_books
from tests.integration.signed import SignedClient
from tests.integration.test_orders import best

NOW = int(time.time() * 1000)
UPCOMING = quarterly_delivery(NOW, ContractType.CURRENT_QUARTER)
DELIVERED = quarterly_delivery(listing_date(UPCOMING), ContractType.CURRENT_QUARTER)
"""The quarter before the upcoming one: what the store's first start called current."""
OLD, LIVE = dated_symbol("BTCUSDT", DELIVERED), dated_symbol("BTCUSDT", UPCOMING)


@pytest.fixture(scope="module")
def exchange(redis_server: EmbeddedRedis) -> Iterator[Exchange]:
    settings = exchange_settings(redis_server, f"it-delivery-{time.time_ns()}", port=free_port())
    calendar = {ContractType.CURRENT_QUARTER: DELIVERED, ContractType.NEXT_QUARTER: UPCOMING}
    with Redis.from_url(redis_server.url) as redis:
        redis.set(Keys(settings.key_prefix).listing, CALENDAR.dump_json(calendar))
    with exchange_process(settings):
        url = f"http://127.0.0.1:{settings.port}"
        wait_for_books(url)
        yield Exchange(url, settings)


async def test_the_store_s_contracts_are_listed_the_delivered_one_as_delivering(
    http: httpx.AsyncClient,
) -> None:
    info = (await http.get("/fapi/v1/exchangeInfo")).json()
    listed = {each["symbol"]: each for each in info["symbols"]}

    assert list(listed) == ["BTCUSDT", "ETHUSDT", OLD, LIVE]
    old, live = listed[OLD], listed[LIVE]
    assert (old["contractType"], old["deliveryDate"], old["status"]) == (
        "CURRENT_QUARTER",
        DELIVERED,
        "DELIVERING",
    )
    assert (live["contractType"], live["deliveryDate"], live["status"]) == (
        "NEXT_QUARTER",
        UPCOMING,
        "TRADING",
    )
    assert old["pair"] == live["pair"] == "BTCUSDT"
    assert live["onboardDate"] < NOW < live["deliveryDate"]
    assert listed["BTCUSDT"]["contractType"] == "PERPETUAL"


async def test_an_order_on_the_delivered_contract_is_refused_with_binances_code(
    http: httpx.AsyncClient, accounts: AccountBook
) -> None:
    client = SignedClient(http, accounts.traders[0])
    bid, _ask = await best(http, LIVE)
    order = {"side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.002"}
    price = str((bid * Decimal("0.98")).quantize(Decimal("0.1")))

    refused = await client.send("POST", "/fapi/v1/order", symbol=OLD, price=price, **order)
    placed = await client.ok("POST", "/fapi/v1/order", symbol=LIVE, price=price, **order)

    assert refused.status_code == 400
    assert refused.json() == {
        "code": -4108,
        "msg": "Symbol is on delivering or delivered or settle or closed or pre-trading.",
    }
    assert placed["status"] == "NEW"
    await client.ok("DELETE", "/fapi/v1/order", symbol=LIVE, orderId=placed["orderId"])


async def test_dated_contracts_are_marked_and_pay_no_funding(http: httpx.AsyncClient) -> None:
    every = (await http.get("/fapi/v1/premiumIndex")).json()
    marks = {each["symbol"]: each for each in every}

    for symbol in (OLD, LIVE):
        assert Decimal(marks[symbol]["markPrice"]) > 0
        assert marks[symbol]["lastFundingRate"] == marks[symbol]["interestRate"] == "0.00000000"
        assert marks[symbol]["nextFundingTime"] == 0
    assert marks["BTCUSDT"]["nextFundingTime"] > NOW


async def test_makers_quote_the_trading_quarterly_and_not_the_delivered_one(
    http: httpx.AsyncClient,
) -> None:
    live = (await http.get("/fapi/v1/depth", params={"symbol": LIVE, "limit": 5})).json()
    old = (await http.get("/fapi/v1/depth", params={"symbol": OLD, "limit": 5})).json()

    assert live["bids"] and live["asks"]
    assert old["bids"] == old["asks"] == []
