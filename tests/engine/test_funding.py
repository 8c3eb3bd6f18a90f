"""Funding in the pure engine: each open position pays or receives its notional at the mark ×
the rate, rounded against its account, the remainder to the insurance fund, so cash stays
conserved to the unit; each interval once; and an account it takes to its margin is liquidated
in the same command."""

from __future__ import annotations

import pytest

from exchange_mock.domain.commands import (
    FundAccount,
    SettleFunding,
    UpdateMarkPrice,
)
from exchange_mock.domain.events import (
    BalanceChanged,
    Event,
    FundFlow,
    FundingFeeCharged,
    FundingSettled,
    InsuranceFundChanged,
    PositionLiquidated,
)
from exchange_mock.domain.replies import Rejected
from exchange_mock.engine import Engine
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import AccountId, Side
from tests.engine.commands import BTC, limit, market, ok, usdt

MARK = 1_225_000
"""122,500.0 in ticks."""
HOUR_8 = 28_800_000
A, B, C, D = (AccountId(n) for n in (1, 2, 3, 4))


@pytest.fixture
def engine(symbols: SymbolTable) -> Engine:
    """A long 0.003 BTC, bought from B (0.001) and C (0.002) at the mark."""
    engine = Engine(symbols, 20)
    for account in (A, B, C):
        ok(engine, FundAccount(account, usdt(10_000), 0))
    ok(engine, UpdateMarkPrice(BTC, MARK, 0))
    ok(engine, limit(B, Side.SELL, 1, MARK))
    ok(engine, limit(C, Side.SELL, 2, MARK))
    ok(engine, market(A, Side.BUY, 3))
    return engine


def test_longs_pay_shorts_the_notional_at_the_mark_times_the_rate(engine: Engine) -> None:
    """At 0.012345%: A owes 367.50 × r = 0.045367875, B and C are owed 0.015122625 and
    0.030245250. A pays a unit up (0.04536788), B gets a unit less (0.01512262), C its exact
    due; the one unit left goes to the fund. (The balances before are 10,000 less A's taker
    fee of 0.18375 and B's and C's maker fees of 0.0245 and 0.049.)"""
    ts = HOUR_8 + 7
    events = ok(engine, SettleFunding(BTC, 12_345, HOUR_8, ts))
    assert events == [
        FundingSettled(BTC, 12_345, MARK, HOUR_8, ts),
        FundingFeeCharged(A, BTC, -4_536_788, usdt("9999.81625") - 4_536_788, ts),
        FundingFeeCharged(B, BTC, 1_512_262, usdt("9999.9755") + 1_512_262, ts),
        FundingFeeCharged(C, BTC, 3_024_525, usdt("9999.951") + 3_024_525, ts),
        InsuranceFundChanged(1, 1, FundFlow.FUNDING, None, ts),
    ]
    audit = engine.audit()
    assert audit.balanced, audit
    assert audit.insurance_fund == 1


def test_a_negative_rate_has_the_shorts_pay(engine: Engine) -> None:
    events = ok(engine, SettleFunding(BTC, -10_000, HOUR_8, HOUR_8))
    charged = {e.account: e.amount for e in events if isinstance(e, FundingFeeCharged)}
    # 0.01% of 367.50 (A), 122.50 (B) and 245.00 (C): exact, nothing left over.
    assert charged == {A: 3_675_000, B: -1_225_000, C: -2_450_000}
    assert not [e for e in events if isinstance(e, InsuranceFundChanged)]
    assert engine.audit().balanced


def test_an_interval_is_settled_once(engine: Engine) -> None:
    ok(engine, SettleFunding(BTC, 10_000, 2 * HOUR_8, 2 * HOUR_8))
    before = engine.state()
    for funding_time in (2 * HOUR_8, HOUR_8):
        events, reply = engine.handle(SettleFunding(BTC, 10_000, funding_time, 2 * HOUR_8 + 5))
        assert (events, reply) == (
            [],
            Rejected(-1130, "Data sent for parameter 'fundingTime' is not valid."),
        )
    assert engine.state() == before
    assert ok(engine, SettleFunding(BTC, 10_000, 3 * HOUR_8, 3 * HOUR_8))


def test_an_unlisted_symbol_is_rejected(engine: Engine) -> None:
    _, reply = engine.handle(SettleFunding("DOGEUSDT", 10_000, HOUR_8, HOUR_8))
    assert reply == Rejected(-1121, "Invalid symbol.")


def test_funding_that_takes_an_account_to_its_margin_liquidates_it_at_once(
    symbols: SymbolTable,
) -> None:
    """D is long 1 BTC from 100,000 with 10,000 of wallet, marked at 90,403.0: 403.0 of equity
    against 402.015 of maintenance margin. 0.01% of 90,403 is 9.04 of funding: past it."""
    engine = Engine(symbols, 20)
    for account, amount in ((D, usdt(10_050)), (B, usdt(1_000_000)), (C, usdt(10_000_000))):
        ok(engine, FundAccount(account, amount, 0))
    ok(engine, UpdateMarkPrice(BTC, 1_000_000, 0))
    ok(engine, limit(B, Side.SELL, 1_000, 1_000_000))
    ok(engine, market(D, Side.BUY, 1_000))
    ok(engine, limit(C, Side.BUY, 1_000, 904_000))
    ok(engine, UpdateMarkPrice(BTC, 904_030, 1))
    events = ok(engine, SettleFunding(BTC, 10_000, HOUR_8, HOUR_8))
    charged = next(e for e in events if isinstance(e, FundingFeeCharged) and e.account == D)
    assert isinstance(charged, FundingFeeCharged) and charged.amount == -usdt("9.0403")
    [liquidated] = [e for e in events if isinstance(e, PositionLiquidated)]
    assert isinstance(liquidated, PositionLiquidated) and liquidated.account == D
    assert events.index(charged) < events.index(liquidated)
    assert BalanceChanged(D, 0, 0, 0, HOUR_8) in events
    assert engine.audit().balanced


def test_funding_is_replayed_exactly(symbols: SymbolTable) -> None:
    """The balances and the settled interval come back from the journal: the restored engine
    refuses the interval again and settles the next exactly as the original does."""
    journal: list[Event] = []
    original = Engine(symbols, 20)
    for command in (
        FundAccount(A, usdt(10_000), 0),
        FundAccount(B, usdt(10_000), 0),
        UpdateMarkPrice(BTC, MARK, 0),
        limit(B, Side.SELL, 3, MARK),
        market(A, Side.BUY, 3),
        SettleFunding(BTC, 12_345, HOUR_8, HOUR_8),
    ):
        journal += ok(original, command)
    restored = Engine(symbols, 20)
    for event in journal:
        restored.replay(event)
    assert restored.state() == original.state()
    for command in (
        SettleFunding(BTC, 12_345, HOUR_8, HOUR_8 + 1),
        SettleFunding(BTC, -777, 2 * HOUR_8, 2 * HOUR_8),
    ):
        assert restored.handle(command) == original.handle(command)
    assert restored.state() == original.state()
