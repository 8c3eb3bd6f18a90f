"""positionRisk's liquidation price: Binance's cross-margin formula over the read model's view
(wallet, collateral at its haircut value, every position at its mark), by hand."""

from __future__ import annotations

from exchange_mock.api import wire
from exchange_mock.store.views import PositionView
from tests.api.fakes import BTC, SYMBOLS, TRADER, account_view

LEVERAGE = 20
BTC_LONG = PositionView("BTCUSDT", qty=1_000, cost=100_000 * 10**8, update_time=1)
"""1 BTC bought at 100,000."""


def liquidation_price(**view: object) -> str:
    rows = wire.positions.position_risk(
        account_view(TRADER.id, **view), [BTC], 3, LEVERAGE, SYMBOLS.symbols
    )
    return str(rows[0]["liquidationPrice"])


def test_a_long_alone_is_liquidated_where_its_wallet_meets_the_bracket_margin() -> None:
    """(100,000 − 10,000 − 50) / 0.995: bracket 2 at the liquidation notional."""
    price = liquidation_price(
        balance=10_000 * 10**8, positions={"BTCUSDT": BTC_LONG}, marks={"BTCUSDT": 1_000_000}
    )
    assert price == "90402.01005025"


def test_a_short_alone() -> None:
    """(10,000 + 50 + 100,000) / 1.005."""
    short = PositionView("BTCUSDT", qty=-1_000, cost=-100_000 * 10**8, update_time=1)
    price = liquidation_price(
        balance=10_000 * 10**8, positions={"BTCUSDT": short}, marks={"BTCUSDT": 1_000_000}
    )
    assert price == "109502.48756219"


def test_other_positions_count_with_their_pnl_and_margin_even_when_not_asked_for() -> None:
    """A short of 10 ETH at 4,000 marked at 4,200 (−2,000, margin 168) with 20,000 of wallet:
    (100,000 − 17,832 − 50) / 0.995."""
    eth_short = PositionView("ETHUSDT", qty=-10_000, cost=-40_000 * 10**8, update_time=1)
    price = liquidation_price(
        balance=20_000 * 10**8,
        positions={"BTCUSDT": BTC_LONG, "ETHUSDT": eth_short},
        marks={"BTCUSDT": 1_000_000, "ETHUSDT": 420_000},
    )
    assert price == "82530.65326633"


def test_collateral_counts_at_its_haircut_value() -> None:
    """6,000 USDE at 0.80 with a 5% haircut is 4,560 of margin, next to 5,440 USDT: the same
    10,000 of wallet as the first case."""
    price = liquidation_price(
        balance=5_440 * 10**8,
        collateral={"USDE": 6_000 * 10**8},
        collateral_prices={"USDE": (80_000_000, 50_000)},
        positions={"BTCUSDT": BTC_LONG},
        marks={"BTCUSDT": 1_000_000},
    )
    assert price == "90402.01005025"


def test_a_position_no_price_can_liquidate_shows_zero() -> None:
    price = liquidation_price(
        balance=200_000 * 10**8, positions={"BTCUSDT": BTC_LONG}, marks={"BTCUSDT": 1_000_000}
    )
    assert price == "0"
