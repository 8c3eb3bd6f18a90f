"""The market agent's handling of the operator's knobs, without the bus or Redis."""

from __future__ import annotations

import random

import pytest

from exchange_mock.collateral import CollateralTable
from exchange_mock.errors import ConfigError
from exchange_mock.market.agent import apply_modes, apply_shock
from exchange_mock.market.oracle import Oracle
from exchange_mock.market.venues import VenueTable
from exchange_mock.store.scenario import VenueShock
from exchange_mock.symbols import SymbolTable


@pytest.fixture
def oracle() -> Oracle:
    tables = SymbolTable.load(), VenueTable.load(), CollateralTable.load()
    return Oracle(*tables, random.Random(1), 0)


def test_every_name_is_set_first_then_each_name(oracle: Oracle) -> None:
    apply_modes(oracle, {"*": "spot", "USDE": "index", "DOGEUSDT": "spot"})
    assert oracle.modes == {"BTCUSDT": "spot", "ETHUSDT": "spot", "USDE": "index"}


def test_a_percentage_without_a_venue_moves_the_whole_market(oracle: Oracle) -> None:
    btc = oracle.venues["BTCUSDT"]
    before = btc.common
    apply_shock(oracle, VenueShock("BTCUSDT", pct=-6.0))
    assert btc.common == pytest.approx(before * 0.94)
    apply_shock(oracle, VenueShock("BTCUSDT", venue="gate", pct=-6.0))
    assert btc.common == pytest.approx(before * 0.94)
    assert btc.venue("gate").dislocation < 0


def test_a_notional_without_a_venue_sells_on_the_own_book(oracle: Oracle) -> None:
    usde = oracle.venues["USDEUSDT"]
    apply_shock(oracle, VenueShock("USDEUSDT", notional=-200_000.0))
    assert usde.venue("stampede").dislocation == pytest.approx(-0.0202, abs=1e-4)


def test_a_shock_on_an_unpriced_name_is_refused(oracle: Oracle) -> None:
    with pytest.raises(ConfigError):
        apply_shock(oracle, VenueShock("DOGEUSDT", pct=-1.0))


@pytest.mark.parametrize("notional", [-100_000_000_000.0, 100_000_000_000.0])
def test_a_trade_larger_than_the_whole_venue_is_refused_and_moves_nothing(
    oracle: Oracle, notional: float
) -> None:
    """1% per sqrt(impact notional): this sale would take the venue below zero."""
    btc = oracle.venues["BTCUSDT"]
    with pytest.raises(ConfigError):
        apply_shock(oracle, VenueShock("BTCUSDT", venue="kucoin", notional=notional))
    assert btc.venue("kucoin").dislocation == 0.0
