"""The crowd: one definition that the simulation and the live genesis both open, configured from
the exchange's settings (and so from `STAMPEDE_CROWD` in the processes a run starts)."""

from __future__ import annotations

import random

import pytest
from pydantic import ValidationError

from exchange_mock.collateral import CollateralTable
from exchange_mock.domain.commands import DepositCollateral, FundAccount, PlaceOrder
from exchange_mock.market.crowd import open_crowd
from exchange_mock.market.quoting import QuotePolicy
from exchange_mock.market.venues import VenueTable
from exchange_mock.server import settings_env
from exchange_mock.settings import Crowd, Settings
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import AccountId
from tests.market.simulation import Simulation

SYMBOLS, COLLATERAL = SymbolTable.load(), CollateralTable.load()
BTC = SYMBOLS.by_name["BTCUSDT"]
CROWD = Crowd(accounts=50, holders=3)


def test_the_crowd_keeps_to_its_own_accounts_and_funds_every_one() -> None:
    first = AccountId(1_000)
    commands = open_crowd(CROWD, BTC, first, random.Random(1), 0, COLLATERAL.assets[0])
    touched = {command.account for command in commands if hasattr(command, "account")}
    assert touched == set(range(first, first + CROWD.size))
    funded = {
        command.account
        for command in commands
        if isinstance(command, FundAccount | DepositCollateral)
    }
    assert funded == touched
    deposits = sum(isinstance(command, DepositCollateral) for command in commands)
    assert 0 < deposits < CROWD.accounts  # some margined with the stable only, not all
    assert {command.symbol for command in commands if isinstance(command, PlaceOrder)} == {
        "BTCUSDT"
    }


def test_without_collateral_every_trader_is_funded_in_cash() -> None:
    commands = open_crowd(CROWD, BTC, AccountId(1), random.Random(1), 0)
    assert not any(isinstance(command, DepositCollateral) for command in commands)


def test_the_simulation_opens_every_traders_position_from_the_same_definition() -> None:
    sim = Simulation(
        SYMBOLS,
        VenueTable.load(),
        COLLATERAL,
        QuotePolicy(levels=5, spread_bps=2, step_bps=25, notional=500, calm_bps=2),
        seed=3,
    )
    assert sim.open_crowd(CROWD, "BTCUSDT") == CROWD.accounts
    assert sim.open_crowd(CROWD, "ETHUSDT") == CROWD.accounts  # on fresh ids, after the first
    assert not sim.rejected
    assert sim.engine.audit().balanced


@pytest.mark.parametrize(
    "fields",
    [{"leverage": (10, 2)}, {"leverage": (0.5, 2)}, {"underwater": (0.1, -0.1)}, {"holders": 1}],
)
def test_a_crowd_that_cannot_be_opened_is_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Crowd.model_validate(fields)


def test_the_settings_carry_a_crowd_to_the_processes_a_run_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().crowd is None  # off unless configured
    configured = Settings(crowd=Crowd(accounts=300))
    for name, value in settings_env(configured).items():
        monkeypatch.setenv(name, value)
    assert Settings().crowd == Crowd(accounts=300)
