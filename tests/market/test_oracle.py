"""The oracle in both modes: what one dumped book does to marks and collateral prices."""

from __future__ import annotations

import random

import pytest

from exchange_mock.collateral import CollateralTable
from exchange_mock.domain.commands import UpdateCollateralPrice, UpdateMarkPrice
from exchange_mock.errors import ConfigError
from exchange_mock.market.oracle import Oracle, OracleMode, OwnBook
from exchange_mock.market.venues import VenueTable
from exchange_mock.risk import PRICE_SCALE
from exchange_mock.symbols import SymbolTable

T0 = 1_760_000_000_000
CALM = {"BTCUSDT": OwnBook(1_224_990, 1_225_010, 1_225_000), "ETHUSDT": OwnBook(None, None, None)}
DUMPED = {"BTCUSDT": OwnBook(1_100_000, 1_225_010, 1_100_000), "ETHUSDT": CALM["ETHUSDT"]}
"""BTC's own book after a dump swept its bids 10% down."""


def oracle(mode: OracleMode) -> Oracle:
    return Oracle(
        SymbolTable.load(), VenueTable.load(), CollateralTable.load(), random.Random(3), T0, mode
    )


def marks(commands: list[object]) -> dict[str, int]:
    return {c.symbol: c.price for c in commands if isinstance(c, UpdateMarkPrice)}


def run(engine_oracle: Oracle, seconds: int, books: dict[str, OwnBook], start: int = 1) -> None:
    for second in range(start, start + seconds):
        engine_oracle.step(T0 + second * 1_000)
        engine_oracle.observe(T0 + second * 1_000, books)


def test_in_spot_mode_a_dumped_book_is_the_mark() -> None:
    spot = oracle(OracleMode.SPOT)
    run(spot, 30, CALM)
    dumped = marks(spot.observe(T0 + 31_000, DUMPED))
    assert dumped["BTCUSDT"] == 1_162_505  # the mid, 116,250.5


def test_in_index_mode_a_dumped_book_moves_the_mark_by_a_thirtieth() -> None:
    index = oracle(OracleMode.INDEX)
    run(index, 30, CALM)
    before = index.indexes["BTCUSDT"]
    mark = marks(index.observe(T0 + 31_000, DUMPED))["BTCUSDT"] / 10
    # One sample of a mid 5% under the index, in a 30-sample average.
    assert mark == pytest.approx(before * (1 - 0.05 / 30), rel=5e-4)


def test_marks_carry_the_index_and_the_funding_rate() -> None:
    index = oracle(OracleMode.INDEX)
    [btc, _eth, *_] = index.observe(T0 + 1_000, CALM)
    assert isinstance(btc, UpdateMarkPrice)
    assert btc.index == round(index.indexes["BTCUSDT"] * 10)
    assert btc.funding_rate == 10_000  # a premium within the clamp: the 0.01% interest rate


def test_a_dumped_collateral_book_is_its_price_only_in_spot_mode() -> None:
    prices = {}
    for mode in OracleMode:
        each = oracle(mode)
        run(each, 5, CALM)
        each.venues["USDEUSDT"].trade(-60_000_000)  # the October dump: −35% on the own book
        sent = [c for c in each.observe(T0 + 6_000, CALM) if isinstance(c, UpdateCollateralPrice)]
        prices[mode] = sent[-1].price / PRICE_SCALE
    assert prices[OracleMode.SPOT] == pytest.approx(0.654, abs=0.002)
    # Capped at −3% of the median and weighted 0.3: the index loses 0.9%; within the floor.
    assert prices[OracleMode.INDEX] == pytest.approx(0.991, abs=0.001)


def test_a_collateral_price_is_sent_only_when_it_moves() -> None:
    index = oracle(OracleMode.INDEX)
    first = index.observe(T0 + 1_000, CALM)
    again = index.observe(T0 + 1_000, CALM)
    assert [type(c) for c in first].count(UpdateCollateralPrice) == 1
    assert UpdateCollateralPrice not in [type(c) for c in again]


def test_modes_switch_per_symbol_per_asset_or_all_at_once() -> None:
    each = oracle(OracleMode.INDEX)
    each.set_mode(OracleMode.SPOT, "USDE")
    assert each.modes == {"BTCUSDT": "index", "ETHUSDT": "index", "USDE": "spot"}
    each.set_mode(OracleMode.SPOT)
    assert set(each.modes.values()) == {OracleMode.SPOT}
    with pytest.raises(ConfigError):
        each.set_mode(OracleMode.SPOT, "DOGEUSDT")
