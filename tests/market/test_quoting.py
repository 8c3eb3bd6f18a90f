"""Makers' quotes: square-root depth, widening and thinning with volatility, withdrawal."""

from __future__ import annotations

import pytest

from exchange_mock.market.quoting import QuotePolicy, Quoter
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import Side

BTC = SymbolTable.load().by_name["BTCUSDT"]
POLICY = QuotePolicy(levels=10, spread_bps=2, step_bps=2, notional=20_000, calm_bps=5)


def quoter(fair: float = 100_000.0) -> Quoter:
    each = Quoter(BTC, POLICY)
    each.update(fair, None)
    return each


def bids(quotes: list[tuple[Side, int, int]]) -> list[tuple[float, float]]:
    """(distance from 100,000 as a fraction, notional) of each bid."""
    return [
        (1 - price / 1_000_000, price * lots * 1e-4)
        for side, price, lots in quotes
        if side is Side.BUY
    ]


def test_depth_grows_with_the_square_of_the_distance() -> None:
    """A market order of Q moves the price by spread × sqrt(Q / inner notional): the depth
    within 4 bps is 4x the inner level's, within 8 bps 16x."""
    levels = bids(quoter().ladder(1.0, 0))
    within = [sum(n for _, n in levels[: k + 1]) for k in range(len(levels))]
    assert within[0] == pytest.approx(20_000, rel=0.01)
    assert within[1] == pytest.approx(80_000, rel=0.01)
    assert within[3] == pytest.approx(320_000, rel=0.01)
    assert [round(d * 10_000) for d, _ in levels[:3]] == [2, 4, 6]


def test_volatility_widens_the_ladder_and_thins_it_near_the_price() -> None:
    calm = quoter()
    shaken = quoter()
    for fair in (99_000.0, 100_500.0, 98_500.0):
        shaken.update(fair, None)
    assert shaken.volatility_bps > 10 * POLICY.calm_bps
    calm_bids, shaken_bids = bids(calm.ladder(1.0, 0)), bids(shaken.ladder(1.0, 0))
    assert shaken_bids[0][0] >= 10 * calm_bids[0][0]  # widened (up to 10x)
    near = calm_bids[-1][0]  # the calm ladder's reach
    assert sum(n for d, n in shaken_bids if d <= near) < 0.02 * sum(n for _, n in calm_bids)


def test_withdrawal_scales_sizes_and_full_withdrawal_quotes_nothing() -> None:
    full, tenth = bids(quoter().ladder(1.0, 0)), bids(quoter().ladder(0.1, 0))
    assert sum(n for _, n in tenth) == pytest.approx(0.1 * sum(n for _, n in full), rel=0.02)
    assert quoter().ladder(0.0, 0) == []


def test_fair_value_follows_trades_and_is_pulled_toward_the_index() -> None:
    each = quoter(100_000.0)
    assert each.update(90_000.0, 100_000.0) == pytest.approx(92_000.0)  # traded down to 90k
    assert each.update(90_000.0, 100_000.0) == pytest.approx(93_600.0)  # nothing traded since


def test_makers_are_staggered_by_their_offset() -> None:
    first, second = quoter().ladder(1.0, 0), quoter().ladder(1.0, 1)
    assert [(s, p - (1 if s is Side.SELL else -1)) for s, p, _ in second] == [
        (s, p) for s, p, _ in first
    ]


def test_a_dated_contract_is_quoted_thinner_with_the_same_inner_levels() -> None:
    table = SymbolTable.load()
    [dated, *_] = [s for s in table.listed(table.deliveries(0)).symbols if not s.funds]
    thin = Quoter(dated, POLICY.for_contract(dated, 2))
    thin.update(100_000.0, None)

    quotes = thin.ladder(1.0, 0)

    assert len(quotes) == 4  # two levels a side, not ten
    assert bids(quotes) == bids(quoter().ladder(1.0, 0))[:2]
    assert POLICY.for_contract(BTC, 2) is POLICY
    assert POLICY.for_contract(dated, 50).levels == POLICY.levels
