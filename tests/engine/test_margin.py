from __future__ import annotations

import pytest

from exchange_mock.engine.contract import Contract
from exchange_mock.engine.margin import available
from exchange_mock.engine.positions import Account
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import AccountId
from tests.engine.commands import usdt


@pytest.fixture
def contracts(symbols: SymbolTable) -> dict[str, Contract]:
    return {spec.symbol: Contract(spec, 20) for spec in symbols.symbols}


def test_an_idle_account_has_its_whole_balance_available(contracts: dict[str, Contract]) -> None:
    account = Account(AccountId(1))
    account.balance = usdt(1_000)
    account.position(contracts["BTCUSDT"])
    assert available(account) == usdt(1_000)


def test_open_orders_hold_their_notional_over_leverage(contracts: dict[str, Contract]) -> None:
    account = Account(AccountId(1))
    account.balance = usdt(1_000)
    account.position(contracts["BTCUSDT"]).open_notional = usdt(4_000)
    assert available(account) == usdt(800)


def test_a_position_adds_its_unrealized_pnl_and_holds_its_margin_at_the_mark(
    contracts: dict[str, Contract],
) -> None:
    btc = contracts["BTCUSDT"]
    account = Account(AccountId(1))
    account.balance = usdt(10_000)
    account.position(btc).settle(1_000, 1_000_000)  # long 1 BTC at 100,000
    btc.mark = 1_100_000  # 110,000: +10,000 unrealized, 110,000 / 20 initial margin
    assert available(account) == usdt(10_000 + 10_000 - 5_500)


def test_without_a_mark_the_last_trade_price_values_positions(
    contracts: dict[str, Contract],
) -> None:
    btc = contracts["BTCUSDT"]
    account = Account(AccountId(1))
    account.position(btc).settle(-1_000, 1_000_000)  # short 1 BTC at 100,000
    btc.last_price = 900_000
    assert available(account) == usdt(10_000 - 4_500)


def test_cross_margin_pools_every_symbol(contracts: dict[str, Contract]) -> None:
    btc, eth = contracts["BTCUSDT"], contracts["ETHUSDT"]
    account = Account(AccountId(1))
    account.position(btc).settle(1_000, 1_000_000)
    account.position(eth).settle(-10_000, 400_000)  # short 10 ETH at 4,000
    btc.mark, eth.mark = 1_000_000, 300_000  # BTC flat, ETH +10,000 for the short
    assert available(account) == usdt(10_000 - 5_000 - 1_500)
