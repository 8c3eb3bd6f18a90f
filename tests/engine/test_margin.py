from __future__ import annotations

from decimal import Decimal

import pytest

from exchange_mock.engine.margin import (
    available,
    initial_margin,
    maintenance_margin,
    max_leverage,
    max_notional,
)
from exchange_mock.engine.market import Market
from exchange_mock.engine.positions import Account
from exchange_mock.symbols import SymbolSpec, SymbolTable, to_cash
from exchange_mock.types import AccountId
from tests.engine.commands import usdt


def test_the_symbols_highest_leverage_is_the_first_brackets(btc: SymbolSpec) -> None:
    assert max_leverage(btc) == 125


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


@pytest.fixture
def markets(symbols: SymbolTable) -> dict[str, Market]:
    return {spec.symbol: Market(spec, 20) for spec in symbols.symbols}


def test_an_idle_account_has_its_whole_balance_available(markets: dict[str, Market]) -> None:
    account = Account(AccountId(1))
    account.balance = usdt(1_000)
    account.position(markets["BTCUSDT"])
    assert available(account) == usdt(1_000)


def test_open_orders_hold_their_notional_over_leverage(markets: dict[str, Market]) -> None:
    account = Account(AccountId(1))
    account.balance = usdt(1_000)
    account.position(markets["BTCUSDT"]).open_notional = usdt(4_000)
    assert available(account) == usdt(800)


def test_a_position_adds_its_unrealized_pnl_and_holds_its_margin_at_the_mark(
    markets: dict[str, Market],
) -> None:
    btc = markets["BTCUSDT"]
    account = Account(AccountId(1))
    account.balance = usdt(10_000)
    account.position(btc).settle(1_000, 1_000_000)  # long 1 BTC at 100,000
    btc.mark = 1_100_000  # 110,000: +10,000 unrealized, 110,000 / 20 initial margin
    assert available(account) == usdt(10_000 + 10_000 - 5_500)


def test_without_a_mark_the_last_trade_price_values_positions(
    markets: dict[str, Market],
) -> None:
    btc = markets["BTCUSDT"]
    account = Account(AccountId(1))
    account.position(btc).settle(-1_000, 1_000_000)  # short 1 BTC at 100,000
    btc.last_price = 900_000
    assert available(account) == usdt(10_000 - 4_500)


def test_cross_margin_pools_every_symbol(markets: dict[str, Market]) -> None:
    btc, eth = markets["BTCUSDT"], markets["ETHUSDT"]
    account = Account(AccountId(1))
    account.position(btc).settle(1_000, 1_000_000)
    account.position(eth).settle(-10_000, 400_000)  # short 10 ETH at 4,000
    btc.mark, eth.mark = 1_000_000, 300_000  # BTC flat, ETH +10,000 for the short
    assert available(account) == usdt(10_000 - 5_000 - 1_500)
