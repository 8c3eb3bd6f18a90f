from __future__ import annotations

import random

import pytest

from exchange_mock.engine.contract import Contract
from exchange_mock.engine.positions import Account, Position
from exchange_mock.symbols import SymbolSpec
from exchange_mock.types import AccountId


@pytest.fixture
def contract(btc: SymbolSpec) -> Contract:
    return Contract(btc, 20)


def test_opening_records_the_signed_entry_notional(contract: Contract) -> None:
    long, short = Position(contract), Position(contract)
    assert long.settle(3, 1_000) == 0
    assert short.settle(-3, 1_000) == 0
    assert (long.qty, long.cost) == (3, 3 * 1_000 * contract.unit)
    assert (short.qty, short.cost) == (-3, -3 * 1_000 * contract.unit)


def test_adding_averages_the_entry(contract: Contract) -> None:
    position = Position(contract)
    position.settle(1, 1_000)
    position.settle(3, 2_000)
    assert position.cost == 7_000 * contract.unit
    assert position.cost / position.qty == 1_750 * contract.unit


def test_closing_a_long_realizes_exit_minus_entry(contract: Contract) -> None:
    position = Position(contract)
    position.settle(2, 1_000)
    realized = position.settle(-2, 1_100)
    assert realized == 2 * 100 * contract.unit
    assert (position.qty, position.cost) == (0, 0)


def test_closing_a_short_at_a_higher_price_loses(contract: Contract) -> None:
    position = Position(contract)
    position.settle(-2, 1_000)
    assert position.settle(2, 1_100) == -2 * 100 * contract.unit
    assert (position.qty, position.cost) == (0, 0)


def test_a_partial_close_removes_the_closed_share_of_the_cost(contract: Contract) -> None:
    position = Position(contract)
    position.settle(3, 1_000)
    position.settle(1, 1_001)  # entry cost 4_001 ticks × unit, not divisible by 4 lots
    cost = position.cost
    realized = position.settle(-1, 1_000)
    removed = cost // 4
    assert position.cost == cost - removed
    assert realized == 1_000 * contract.unit - removed
    assert position.qty == 3


def test_a_fill_through_zero_closes_then_opens_at_the_fill_price(contract: Contract) -> None:
    position = Position(contract)
    position.settle(2, 1_000)
    realized = position.settle(-5, 900)
    assert realized == -2 * 100 * contract.unit
    assert (position.qty, position.cost) == (-3, -3 * 900 * contract.unit)


def test_every_fill_moves_realized_minus_cost_by_exactly_its_notional(contract: Contract) -> None:
    """The identity conservation rests on: for any fill, realized − Δcost = −signed notional,
    so a buyer's and a seller's changes cancel to the last cash unit."""
    rng = random.Random(11)
    position = Position(contract)
    for _ in range(5_000):
        lots = rng.choice((-1, 1)) * rng.randint(1, 40)
        price = rng.randint(90_000, 110_000)
        cost = position.cost
        realized = position.settle(lots, price)
        assert realized - (position.cost - cost) == -lots * price * contract.unit
        if position.qty == 0:
            assert position.cost == 0


def test_a_new_position_takes_the_markets_default_leverage(btc: SymbolSpec) -> None:
    position = Position(Contract(btc, 500))
    assert position.leverage == 125
    assert position.max_notional == Contract(btc, 125).default_max_notional


def test_an_account_keeps_one_position_per_symbol(contract: Contract) -> None:
    account = Account(AccountId(1))
    assert account.position(contract) is account.position(contract)
    assert list(account.positions) == ["BTCUSDT"]
