"""Static order validation: every filter's Binance error, and the command a valid order becomes.

BTCUSDT here: tick 0.10 (price precision 2), step 0.001, price 261.10..809484, quantity
0.001..1000 (MARKET up to 120), minimum notional 100.
"""

from __future__ import annotations

from typing import Any

import pytest

from exchange_mock.api.filters import CLIENT_ORDER_ID, place_order
from exchange_mock.api.params import Params
from exchange_mock.domain.commands import PlaceOrder
from exchange_mock.errors import ExchangeError
from exchange_mock.symbols import SymbolSpec, SymbolTable
from exchange_mock.types import AccountId, OrderType, Side, TimeInForce
from tests.api.fakes import NOW, SYMBOLS

LIMIT: dict[str, str] = {
    "symbol": "BTCUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.010",
    "price": "120000.10",
}
MARKET: dict[str, str] = {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "2"}


def place(base: dict[str, str], **changes: Any) -> PlaceOrder:
    values = {**base, **changes}
    return place_order(
        Params({k: v for k, v in values.items() if v is not None}), SYMBOLS, AccountId(3), NOW
    )


def refused(base: dict[str, str], **changes: Any) -> tuple[int, str]:
    with pytest.raises(ExchangeError) as error:
        place(base, **changes)
    assert error.value.http_status == 400
    return int(error.value.code), error.value.msg


def test_a_valid_limit_order_becomes_a_place_order_in_ticks_and_lots() -> None:
    command = place(LIMIT, newClientOrderId="bot-1", reduceOnly="false")
    assert command == PlaceOrder(
        account=AccountId(3),
        symbol="BTCUSDT",
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=10,
        price=1_200_001,
        time_in_force=TimeInForce.GTC,
        reduce_only=False,
        client_order_id="bot-1",
        ts=NOW,
    )


def test_a_market_order_needs_no_price_or_time_in_force_and_carries_neither() -> None:
    command = place(MARKET, reduceOnly="true")
    assert (command.type, command.qty, command.price, command.time_in_force) == (
        OrderType.MARKET,
        2000,
        None,
        None,
    )
    assert command.reduce_only is True


def test_trailing_zeros_do_not_count_as_precision() -> None:
    assert place(LIMIT, quantity="0.0100000", price="120000.1000").qty == 10


def test_an_absent_client_order_id_is_generated_unique_and_within_binances_pattern() -> None:
    ids = {place(LIMIT).client_order_id for _ in range(50)}
    assert len(ids) == 50
    assert all(CLIENT_ORDER_ID.fullmatch(i) for i in ids)


@pytest.mark.parametrize("name", ["symbol", "side", "type", "quantity"])
def test_a_missing_mandatory_parameter_is_1102(name: str) -> None:
    code, msg = refused(MARKET, **{name: None})
    assert code == -1102
    assert msg == f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."


@pytest.mark.parametrize("name", ["timeInForce", "price"])
def test_a_limit_order_needs_time_in_force_and_price(name: str) -> None:
    assert refused(LIMIT, **{name: None})[0] == -1102


@pytest.mark.parametrize(
    ("changes", "code", "msg"),
    [
        ({"symbol": "DOGEUSDT"}, -1121, "Invalid symbol."),
        ({"side": "LONG"}, -1117, "Invalid side."),
        ({"type": "STOP_MARKET"}, -1116, "Invalid orderType."),
        ({"type": "LIQUIDATION"}, -1116, "Invalid orderType."),
        ({"timeInForce": "GTD"}, -1115, "Invalid timeInForce."),
        ({"quantity": "0.0101"}, -1111, "Precision is over the maximum defined for this asset."),
        ({"price": "120000.123"}, -1111, "Precision is over the maximum defined for this asset."),
        ({"price": "120000.15"}, -4014, "Price not increased by tick size."),
        ({"price": "261.00"}, -4013, "Price less than min price."),
        ({"price": "809484.10"}, -4002, "Price greater than max price."),
        ({"price": "0"}, -4001, "Price less than 0."),
        ({"price": "-1"}, -4001, "Price less than 0."),
        ({"quantity": "0"}, -4003, "Quantity less than or equal to zero."),
        ({"quantity": "-0.01"}, -4003, "Quantity less than or equal to zero."),
        ({"quantity": "1000.001"}, -4005, "Quantity greater than max quantity."),
        ({"newClientOrderId": "x" * 37}, -4015, "Client order id is not valid."),
        ({"newClientOrderId": "bad id"}, -4015, "Client order id is not valid."),
        ({"reduceOnly": "1"}, -1130, "Data sent for parameter 'reduceOnly' is not valid."),
        ({"positionSide": "LONG"}, -1130, "Data sent for parameter 'positionSide' is not valid."),
        ({"newOrderRespType": "FULL"}, -1130, None),
        ({"quantity": "1e-3"}, -1100, None),
    ],
)  # fmt: skip
def test_each_filter_refuses_with_binances_code_and_message(
    changes: dict[str, str], code: int, msg: str | None
) -> None:
    got_code, got_msg = refused(LIMIT, **changes)
    assert got_code == code
    if msg is not None:
        assert got_msg == msg


def btc_with(**changes: str) -> SymbolTable:
    """A one-contract table: BTCUSDT with some filters changed (the shipped contracts have the
    step equal to the precision unit and the minimum equal to the step)."""
    base = SYMBOLS.by_name["BTCUSDT"].model_dump()
    return SymbolTable(symbols=(SymbolSpec.model_validate({**base, **changes}),))


def test_a_quantity_within_precision_but_off_the_step_is_4023() -> None:
    table = btc_with(step_size="0.010", min_qty="0.010")
    with pytest.raises(ExchangeError) as error:
        place_order(Params({**LIMIT, "quantity": "0.015"}), table, AccountId(3), NOW)
    assert (int(error.value.code), error.value.msg) == (
        -4023,
        "Quantity not increased by step size.",
    )


def test_a_quantity_below_the_minimum_is_4004() -> None:
    table = btc_with(min_qty="0.005")
    with pytest.raises(ExchangeError) as error:
        place_order(Params({**MARKET, "quantity": "0.004"}), table, AccountId(3), NOW)
    assert (int(error.value.code), error.value.msg) == (-4004, "Quantity less than min quantity.")


def test_market_orders_are_held_to_the_market_lot_size() -> None:
    assert place(MARKET, quantity="120").qty == 120_000
    assert refused(MARKET, quantity="120.001")[0] == -4005
    assert place(LIMIT, quantity="120.001").qty == 120_001


def test_a_limit_order_under_the_minimum_notional_is_4164_unless_reduce_only() -> None:
    code, msg = refused(LIMIT, quantity="0.001", price="99000")
    assert code == -4164
    assert msg == "Order's notional must be no smaller than 100 (unless you choose reduce only)."
    assert place(LIMIT, quantity="0.001", price="99000", reduceOnly="true").reduce_only
    assert place(LIMIT, quantity="0.001", price="100000").qty == 1
