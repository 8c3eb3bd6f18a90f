"""The liquidation and bankruptcy prices against worked examples computed by hand with
Binance's formula, LP = (WB − TMM1 + UPNL1 + cum − s·Q·EP) / (Q·MMR − s·Q), and against the
margin test they must agree with to the tick; and the same boundary at a margin-call ratio."""

from __future__ import annotations

import math
import random
from decimal import Decimal
from fractions import Fraction
from functools import partial

import pytest

from exchange_mock.risk import (
    Tiers,
    at_margin_ratio,
    bankruptcy_ticks,
    collateral_units,
    collateral_value,
    default_leverage,
    initial_margin,
    liquidatable,
    liquidation_price,
    liquidation_ticks,
    maintenance_margin,
    margin_ratio_ticks,
    max_leverage,
    max_notional,
)
from exchange_mock.symbols import SymbolSpec, SymbolTable, to_cash
from tests.engine.commands import usdt

UNIT = 10_000
"""BTCUSDT: cash per tick (0.1) × lot (0.001)."""
BTC_LOT = 1_000
"""Lots in one BTC."""


@pytest.fixture(scope="module")
def tiers() -> Tiers:
    spec = SymbolTable.load().get("BTCUSDT")
    assert spec is not None
    return Tiers(spec)


@pytest.fixture(scope="module")
def btc() -> SymbolSpec:
    spec = SymbolTable.load().get("BTCUSDT")
    assert spec is not None
    return spec


def ticks(price: str) -> Fraction:
    """A price in BTCUSDT ticks (0.1), exactly."""
    return Fraction(Decimal(price)) * 10


# Each case: lots, entry price, cushion (WB − TMM1 + UPNL1), and the LP by hand.
#   long 1 BTC at 100,000, WB 10,000: the LP's notional (~90k) is in bracket 2 (0.5%, cum 50):
#     (100,000 − 10,000 − 50) / (1 × 0.995) = 90,402.01005...
#   short 1 BTC at 100,000, WB 10,000: (10,000 + 50 + 100,000) / (1 × 1.005) = 109,502.48756...
#   long 1 BTC at 100,000 with a short of 10 ETH at 4,000 marked at 4,200 (UPNL1 −2,000,
#     TMM1 42,000 × 0.4% = 168), WB 20,000: cushion 17,832;
#     (100,000 − 17,832 − 50) / 0.995 = 82,530.65326...
#   long 6 BTC at 100,000 (600k: bracket 3 at entry), WB 150,000: with bracket 3 the LP would
#     be (600,000 − 150,000 − 2,550) / (6 × 0.99) = 75,328.28, a notional of 451,970 — bracket 2,
#     so bracket 2 it is: (600,000 − 150,000 − 50) / (6 × 0.995) = 75,368.50921...
WORKED = [
    (BTC_LOT, "100000", "10000", Fraction(89_950) / Fraction("0.995")),
    (-BTC_LOT, "100000", "10000", Fraction(110_050) / Fraction("1.005")),
    (BTC_LOT, "100000", "17832", Fraction(82_118) / Fraction("0.995")),
    (6 * BTC_LOT, "100000", "150000", Fraction(449_950) / Fraction("5.97")),
]


@pytest.mark.parametrize(("lots", "entry", "cushion", "by_hand"), WORKED)
def test_liquidation_price_matches_the_worked_examples(
    tiers: Tiers, lots: int, entry: str, cushion: str, by_hand: Fraction
) -> None:
    cost = lots * int(ticks(entry)) * UNIT
    exact = liquidation_price(tiers, lots, cost, UNIT, usdt(cushion))
    assert exact == by_hand * 10  # in ticks
    in_ticks = liquidation_ticks(tiers, lots, cost, UNIT, usdt(cushion))
    # A long is liquidated at or below its LP, a short at or above: whole ticks round inward.
    expected = math.floor(by_hand * 10) if lots > 0 else math.ceil(by_hand * 10)
    assert in_ticks == expected


def test_the_first_worked_example_in_whole_ticks(tiers: Tiers) -> None:
    """90,402.0 liquidates the long; 90,402.1 does not: equity 402.0 vs margin 402.01, then
    402.1 vs 402.0105."""
    cost = BTC_LOT * 1_000_000 * UNIT
    assert liquidation_ticks(tiers, BTC_LOT, cost, UNIT, usdt(10_000)) == 904_020
    assert liquidatable(tiers, BTC_LOT, cost, UNIT, usdt(10_000), 904_020)
    assert not liquidatable(tiers, BTC_LOT, cost, UNIT, usdt(10_000), 904_021)


def test_a_long_that_no_positive_price_liquidates_has_no_liquidation_price(tiers: Tiers) -> None:
    cost = BTC_LOT * 1_000_000 * UNIT
    assert liquidation_price(tiers, BTC_LOT, cost, UNIT, usdt(200_000)) is None
    assert liquidation_ticks(tiers, BTC_LOT, cost, UNIT, usdt(200_000)) == 0


@pytest.mark.parametrize(
    ("lots", "cushion", "price"),
    [
        (BTC_LOT, "10000", 900_000),  # long 1 at 100,000 with 10,000: 90,000.0
        (-BTC_LOT, "10000", 1_100_000),  # short: 110,000.0
        (3, "1", 996_667),  # 0.003 BTC: (300 − 1) / 0.003 = 99,666.67 up to 99,666.7
        (-3, "1", 1_003_333),  # short: (300 + 1) / 0.003 = 100,333.33 down to 100,333.3
        (BTC_LOT, "150000", 1),  # never bankrupt above zero: at least a tick
    ],
)
def test_bankruptcy_price_rounds_so_closing_there_leaves_equity_non_negative(
    lots: int, cushion: str, price: int
) -> None:
    cost = lots * 1_000_000 * UNIT
    assert bankruptcy_ticks(lots, cost, UNIT, usdt(cushion)) == price
    equity = usdt(cushion) - cost + price * lots * UNIT
    assert equity >= 0 or price == 1


def test_liquidation_ticks_is_the_exact_boundary_of_the_margin_test(tiers: Tiers) -> None:
    """Across sizes, sides and cushions spanning every bracket: the LP passes the margin test
    and the next tick outward does not."""
    rng = random.Random(11)
    for _ in range(3_000):
        lots = rng.choice((1, -1)) * rng.randint(1, 2_000_000)
        entry = rng.randint(200_000, 2_000_000)
        cost = lots * entry * UNIT
        cushion = abs(cost) * rng.randint(-50, 1_500) // 1_000
        price = liquidation_ticks(tiers, lots, cost, UNIT, cushion)

        def test(at: int, lots: int = lots, cost: int = cost, cushion: int = cushion) -> bool:
            return liquidatable(tiers, lots, cost, UNIT, cushion, at)

        if lots > 0:
            assert price >= 0
            assert not test(price + 1)
            assert price == 0 or test(price)
        else:
            assert price >= 1
            assert test(price)
            assert price == 1 or not test(price - 1)


def test_the_margin_call_price_of_the_first_worked_example(tiers: Tiers) -> None:
    """Long 1 BTC at 100,000 with 10,000: the ratio is 80% where 0.8 × (P − 90,000) =
    0.005 × P − 50, at 90,503.14: 90,503.1 reaches it (402.5155 / 503.1), 90,503.2 does not."""
    cost = BTC_LOT * 1_000_000 * UNIT
    cushion = usdt(10_000)
    assert margin_ratio_ticks(tiers, BTC_LOT, cost, UNIT, cushion, 800_000) == 905_031
    assert at_margin_ratio(tiers, BTC_LOT, cost, UNIT, cushion, 905_031, 800_000)
    assert not at_margin_ratio(tiers, BTC_LOT, cost, UNIT, cushion, 905_032, 800_000)


def test_margin_ratio_ticks_is_the_exact_boundary_of_the_ratio_test(tiers: Tiers) -> None:
    """Across sizes, sides, cushions, other positions' margin and ratios between the highest
    maintenance rate and 100%: the price reaches the ratio and the next tick outward does not.
    At 100% with the others' margin taken off the cushion, it is the liquidation price."""
    rng = random.Random(12)
    for _ in range(3_000):
        lots = rng.choice((1, -1)) * rng.randint(1, 2_000_000)
        cost = lots * rng.randint(200_000, 2_000_000) * UNIT
        cushion = abs(cost) * rng.randint(-50, 1_500) // 1_000
        others = abs(cost) * rng.randint(0, 30) // 1_000
        ratio = rng.randint(500_001, 1_000_000)
        price = margin_ratio_ticks(tiers, lots, cost, UNIT, cushion, ratio, others)
        test = partial(
            at_margin_ratio, tiers, lots, cost, UNIT, cushion, ratio_ppm=ratio, others_mm=others
        )
        if lots > 0:
            assert price == 0 or test(price)
            assert not test(price + 1)
        else:
            assert test(price)
            assert price == 1 or not test(price - 1)
        if ratio == 1_000_000:
            assert price == liquidation_ticks(tiers, lots, cost, UNIT, cushion - others)


def test_collateral_units_are_the_most_worth_no_more_than_the_cash() -> None:
    rng = random.Random(5)
    for _ in range(1_000):
        cash, price = rng.randint(0, 10**14), rng.randint(1, 2 * 10**8)
        haircut = rng.randint(0, 500_000)
        units = collateral_units(cash, price, haircut)
        assert collateral_value(units, price, haircut) <= cash
        assert collateral_value(units + 1, price, haircut) > cash
    # 95 USDT of surplus lets 100 USDE go at 1.00 with a 5% haircut (and a hair more).
    assert collateral_units(usdt(95), 10**8, 50_000) == usdt(100) + 1
    assert collateral_units(usdt(95), 0, 50_000) == 0


def test_maintenance_margin_tables_agree_with_the_brackets(tiers: Tiers, btc: SymbolSpec) -> None:
    for notional in range(0, 1_200_000_000, 9_999_991):
        tier = btc.bracket_for(Decimal(notional))
        expected = to_cash(Decimal(notional) * tier.mmr - tier.cum)
        assert tiers.maintenance(usdt(notional)) == expected


def test_the_symbols_highest_leverage_is_the_first_brackets(btc: SymbolSpec) -> None:
    assert max_leverage(btc) == 125


def test_the_default_leverage_is_capped_at_the_symbols_highest(btc: SymbolSpec) -> None:
    assert default_leverage(btc, 20) == 20
    assert default_leverage(btc, 200) == 125


@pytest.mark.parametrize(
    ("leverage", "cap"),
    [(125, 50_000), (101, 50_000), (100, 500_000), (20, 80_000_000), (1, 1_000_000_000)],
)
def test_max_notional_is_the_largest_cap_still_allowing_the_leverage(
    btc: SymbolSpec, leverage: int, cap: int
) -> None:
    assert max_notional(btc, leverage) == usdt(cap)


def test_no_position_is_allowed_above_the_highest_leverage(btc: SymbolSpec) -> None:
    assert max_notional(btc, 126) == 0


@pytest.mark.parametrize(
    ("notional", "margin"),
    [
        ("10000", "40"),  # 0.4%, cum 0
        ("50000", "200"),  # the cap itself is still the first bracket
        ("100000", "450"),  # 0.5% − 50
        ("1000000", "7450"),  # 1% − 2,550
        ("100000000", "2847450"),  # 5% − 2,152,550
    ],
)
def test_maintenance_margin_is_notional_times_mmr_minus_cum(
    btc: SymbolSpec, notional: str, margin: str
) -> None:
    assert maintenance_margin(btc, usdt(notional)) == usdt(margin)
    assert maintenance_margin(btc, -usdt(notional)) == usdt(margin)


def test_maintenance_margin_agrees_with_the_bracket_table(btc: SymbolSpec) -> None:
    for notional in range(0, 2_000_000_000, 7_777_777):
        tier = btc.bracket_for(Decimal(notional))
        expected = to_cash(Decimal(notional) * tier.mmr - tier.cum)
        assert maintenance_margin(btc, usdt(notional)) == expected


def test_initial_margin_is_the_absolute_notional_over_leverage() -> None:
    assert initial_margin(-1_000, 20) == 50
    assert initial_margin(1_019, 20) == 50
