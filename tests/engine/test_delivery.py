"""Dated contracts in the pure engine: funding passes them by, and from their delivery on they
take no orders (Binance's -4108), while the perpetual beside them trades on."""

from __future__ import annotations

import pytest

from exchange_mock.delivery import ContractType, delivery_in
from exchange_mock.domain.commands import FundAccount, PlaceOrder, SettleFunding, UpdateMarkPrice
from exchange_mock.domain.replies import Rejected
from exchange_mock.engine import Engine
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import AccountId, OrderType, Side, TimeInForce
from tests.engine.commands import BTC, limit, market, ok, usdt

MARK = 1_225_000
HOUR_8 = 28_800_000
DELIVERY = delivery_in(2026, 12)
A, B = AccountId(1), AccountId(2)


@pytest.fixture(scope="module")
def listed() -> SymbolTable:
    table = SymbolTable.load()
    return table.listed(
        {ContractType.CURRENT_QUARTER: DELIVERY, ContractType.NEXT_QUARTER: delivery_in(2027, 3)}
    )


@pytest.fixture
def quarterly(listed: SymbolTable) -> str:
    [current] = [s for s in listed.symbols if s.contract_type is ContractType.CURRENT_QUARTER]
    return current.symbol


@pytest.fixture
def engine(listed: SymbolTable, quarterly: str) -> Engine:
    """A long 0.003 of the quarterly, and of the perpetual, bought from B at the mark."""
    engine = Engine(listed, 20)
    for account in (A, B):
        ok(engine, FundAccount(account, usdt(100_000), 0))
    for symbol in (quarterly, BTC):
        ok(engine, UpdateMarkPrice(symbol, MARK, 0))
        ok(engine, limit(B, Side.SELL, 3, MARK, symbol))
        ok(engine, market(A, Side.BUY, 3, symbol))
    return engine


def order_at(ts: int, symbol: str) -> PlaceOrder:
    return PlaceOrder(
        A, symbol, Side.BUY, OrderType.LIMIT, 1, MARK - 10, TimeInForce.GTC, False, "", ts
    )


def test_funding_passes_a_dated_contract_by(engine: Engine, quarterly: str) -> None:
    before = engine.state()

    events, reply = engine.handle(SettleFunding(quarterly, 12_345, HOUR_8, HOUR_8))

    assert events == []
    assert not isinstance(reply, Rejected)
    assert engine.state() == before
    # The perpetual's holders pay and receive as ever.
    assert len(ok(engine, SettleFunding(BTC, 12_345, HOUR_8, HOUR_8))) > 1


def test_a_delivered_contract_refuses_orders_with_binances_code(
    engine: Engine, quarterly: str
) -> None:
    assert ok(engine, order_at(DELIVERY - 1, quarterly))
    before = engine.state()

    for ts in (DELIVERY, DELIVERY + HOUR_8):
        events, reply = engine.handle(order_at(ts, quarterly))
        assert (events, reply) == (
            [],
            Rejected(
                -4108, "Symbol is on delivering or delivered or settle or closed or pre-trading."
            ),
        )
    assert engine.state() == before
    assert ok(engine, order_at(DELIVERY, BTC))
