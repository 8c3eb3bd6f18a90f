"""ADL quantiles: each position's place in the auto-deleveraging queue of its side, in fifths,
ranked as the deleveraging itself ranks (PnL% × margin ratio), refreshed on the first mark of
each window and journaled only where they changed."""

from __future__ import annotations

import pytest

from exchange_mock.domain.commands import (
    FundAccount,
    SeedInsuranceFund,
    UpdateMarkPrice,
)
from exchange_mock.domain.events import (
    AdlQuantile,
    AdlQuantilesUpdated,
    Event,
    PositionAutoDeleveraged,
)
from exchange_mock.engine import Engine
from exchange_mock.engine.adl import REFRESH_MS
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import AccountId, Side
from tests.engine.commands import BTC, limit, market, ok, usdt

MARK = 1_000_000
"""100,000.0 in ticks."""
LONGS = [AccountId(n) for n in range(1, 6)]
SHORT, MAKER = AccountId(10), AccountId(11)


def quantile_events(events: list[Event]) -> list[AdlQuantilesUpdated]:
    return [e for e in events if isinstance(e, AdlQuantilesUpdated)]


@pytest.fixture
def engine(symbols: SymbolTable) -> Engine:
    """Five longs of 0.1 BTC with the same wallet, bought from one short at 99,000 down to
    95,000: at a mark of 100,000 the lower the entry, the higher the PnL% × margin ratio."""
    engine = Engine(symbols, 20)
    ok(engine, FundAccount(SHORT, usdt(1_000_000), 0))
    ok(engine, UpdateMarkPrice(BTC, MARK, 0))
    for number, account in enumerate(LONGS):
        ok(engine, FundAccount(account, usdt(2_000), 0))
        ok(engine, limit(SHORT, Side.SELL, 100, MARK - 10_000 * (number + 1)))
        ok(engine, market(account, Side.BUY, 100))
    return engine


def test_quantiles_rank_each_side_in_fifths_first_in_the_queue_highest(engine: Engine) -> None:
    (published,) = quantile_events(ok(engine, UpdateMarkPrice(BTC, MARK, REFRESH_MS)))
    by_account = {entry.account: entry.quantile for entry in published.quantiles}
    # The lowest entry (the last long) is first in the queue; the lone short is first in its.
    assert [by_account.get(account, 0) for account in LONGS] == [0, 1, 2, 3, 4]
    assert by_account[SHORT] == 4
    assert [engine.adl_quantile(account, BTC) for account in LONGS] == [0, 1, 2, 3, 4]
    assert AdlQuantile(LONGS[0], 0) not in published.quantiles, "only changes are journaled"


def test_quantiles_are_ranked_again_once_per_window_and_only_changes_journaled(
    engine: Engine,
) -> None:
    ok(engine, UpdateMarkPrice(BTC, MARK, REFRESH_MS))
    # Within the window nothing is ranked; in the next, the unchanged ranking journals nothing.
    ok(engine, FundAccount(MAKER, usdt(1_000_000), 0))
    ok(engine, limit(MAKER, Side.BUY, 100, MARK - 100))
    ok(engine, market(LONGS[4], Side.SELL, 100))  # the first in line closes its position
    assert quantile_events(ok(engine, UpdateMarkPrice(BTC, MARK, 2 * REFRESH_MS - 1))) == []
    (moved,) = quantile_events(ok(engine, UpdateMarkPrice(BTC, MARK, 2 * REFRESH_MS)))
    # The others move up the queue; the maker who bought the closed position (a tiny PnL% on
    # a large wallet) joins it last, at 0: unchanged, so not journaled.
    assert moved.quantiles == (
        AdlQuantile(LONGS[0], 1),
        AdlQuantile(LONGS[1], 2),
        AdlQuantile(LONGS[2], 3),
        AdlQuantile(LONGS[3], 4),
        AdlQuantile(LONGS[4], 0),
    )
    assert quantile_events(ok(engine, UpdateMarkPrice(BTC, MARK, 3 * REFRESH_MS))) == []


def test_the_first_in_the_published_queue_is_the_first_deleveraged(symbols: SymbolTable) -> None:
    """Two shorts of 0.5 BTC at 100,000 against a long liquidated with a 500 fund: the short
    with the smaller wallet ranks higher (quantile 4 against 2) and is deleveraged first."""
    engine = Engine(symbols, 20)
    long, rich, poor, bidder = (AccountId(n) for n in (1, 2, 3, 4))
    for command in (
        FundAccount(long, usdt(10_050), 0),
        FundAccount(rich, usdt(100_000), 0),
        FundAccount(poor, usdt(5_000), 0),
        FundAccount(bidder, usdt(10_000_000), 0),
        SeedInsuranceFund(usdt(500), 0),
        UpdateMarkPrice(BTC, MARK, 0),
        limit(rich, Side.SELL, 500, MARK),
        limit(poor, Side.SELL, 500, MARK),
        market(long, Side.BUY, 1_000),
        limit(bidder, Side.BUY, 1_000, 890_000),
    ):
        ok(engine, command)
    ok(engine, UpdateMarkPrice(BTC, 950_000, REFRESH_MS))
    assert (engine.adl_quantile(poor, BTC), engine.adl_quantile(rich, BTC)) == (4, 2)
    events = ok(engine, UpdateMarkPrice(BTC, 895_000, REFRESH_MS + 1))
    deleveraged = [e.account for e in events if isinstance(e, PositionAutoDeleveraged)]
    assert deleveraged == [poor]


def test_quantiles_are_replayed_exactly(symbols: SymbolTable) -> None:
    original = Engine(symbols, 20)
    journal = ok(original, FundAccount(SHORT, usdt(1_000_000), 0))
    journal += ok(original, UpdateMarkPrice(BTC, MARK, 0))
    for number, account in enumerate(LONGS):
        journal += ok(original, FundAccount(account, usdt(2_000), 0))
        journal += ok(original, limit(SHORT, Side.SELL, 100, MARK - 10_000 * (number + 1)))
        journal += ok(original, market(account, Side.BUY, 100))
    journal += ok(original, UpdateMarkPrice(BTC, MARK, REFRESH_MS))
    restored = Engine(symbols, 20)
    for event in journal:
        restored.replay(event)
    assert restored.state() == original.state()
    assert [restored.adl_quantile(account, BTC) for account in LONGS] == [0, 1, 2, 3, 4]
    # The refresh window is restored too: the next mark in it ranks nothing, in either.
    later = UpdateMarkPrice(BTC, MARK, REFRESH_MS + 5)
    assert restored.handle(later) == original.handle(later)
