"""Fixtures for the engine's tests: the shipped contract table and a maker of bare orders."""

from __future__ import annotations

from itertools import count

import pytest

from exchange_mock.engine.orders import Order
from exchange_mock.symbols import SymbolSpec, SymbolTable
from exchange_mock.types import AccountId, OrderId, OrderType, Side, TimeInForce


@pytest.fixture(scope="session")
def symbols() -> SymbolTable:
    return SymbolTable.load()


@pytest.fixture(scope="session")
def btc(symbols: SymbolTable) -> SymbolSpec:
    spec = symbols.get("BTCUSDT")
    assert spec is not None
    return spec


class OrderMaker:
    """Builds GTC limit orders (or market orders, with no price) with increasing ids."""

    def __init__(self) -> None:
        self._ids = count(1)

    def __call__(
        self,
        side: Side,
        price: int | None,
        qty: int,
        account: int = 1,
        reduce_only: bool = False,
    ) -> Order:
        limit = price is not None
        return Order(
            OrderId(next(self._ids)),
            "",
            AccountId(account),
            "BTCUSDT",
            side,
            OrderType.LIMIT if limit else OrderType.MARKET,
            TimeInForce.GTC if limit else None,
            price,
            qty,
            reduce_only,
            0,
        )


@pytest.fixture
def new_order() -> OrderMaker:
    return OrderMaker()
