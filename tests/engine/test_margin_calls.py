"""Margin calls in the pure engine: issued where the margin ratio reaches the level, once per
crossing, by marks and by collateral prices, and replayed exactly.

A is long 1 BTC bought at 100,000 with 10,000 of wallet after its fee. At a price P its equity
is 10,000 + P − 100,000 and its maintenance margin P × 0.5% − 50 (bracket 2), so the margin
ratio reaches 80% where 0.8 × (P − 90,000) = 0.005 × P − 50: P = 71,950 / 0.795 =
90,503.14..., that is 90,503.1 in whole ticks (liquidation comes at 90,402.0).
"""

from __future__ import annotations

import pytest

from exchange_mock.collateral import CollateralTable
from exchange_mock.domain.commands import (
    Command,
    DepositCollateral,
    FundAccount,
    PlaceOrder,
    SetLeverage,
    UpdateCollateralPrice,
)
from exchange_mock.domain.events import (
    Event,
    MarginCallIssued,
    MarginCallLifted,
    MarginCallPosition,
    PositionLiquidated,
)
from exchange_mock.engine import Engine
from exchange_mock.errors import ConfigError
from exchange_mock.risk import PRICE_SCALE
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import AccountId, OrderType, Side, TimeInForce
from tests.engine.commands import BTC, mark, ok, usdt

UNIT = 10_000
LOT = 1_000
ENTRY = 1_000_000
CALL = 905_031
"""The hand-computed margin-call price, in ticks."""
A, C, D = AccountId(1), AccountId(2), AccountId(3)


def calls(events: list[Event]) -> list[MarginCallIssued | MarginCallLifted]:
    return [e for e in events if isinstance(e, MarginCallIssued | MarginCallLifted)]


def trade(engine: Engine, buyer: AccountId, seller: AccountId, lots: int, price: int) -> None:
    sell = PlaceOrder(seller, BTC, Side.SELL, OrderType.LIMIT, lots, price, TimeInForce.GTC,
                      False, "", 1)  # fmt: skip
    buy = PlaceOrder(buyer, BTC, Side.BUY, OrderType.MARKET, lots, None, None, False, "", 1)
    ok(engine, sell)
    ok(engine, buy)


@pytest.fixture
def engine(symbols: SymbolTable) -> Engine:
    engine = Engine(symbols, 20, CollateralTable.load().assets)
    for command in (
        FundAccount(A, usdt(10_050), 0),
        FundAccount(C, usdt(1_000_000), 0),
        mark(ENTRY, ts=0),
    ):
        ok(engine, command)
    trade(engine, A, C, LOT, ENTRY)
    return engine


def test_the_call_comes_where_the_ratio_reaches_80_percent_and_not_a_tick_above(
    engine: Engine,
) -> None:
    assert calls(ok(engine, mark(CALL + 1))) == []
    notional = CALL * LOT * UNIT  # 90,503.1
    assert calls(ok(engine, mark(CALL))) == [
        MarginCallIssued(
            A,
            usdt(10_000),
            (MarginCallPosition(BTC, LOT, CALL, notional - ENTRY * LOT * UNIT, usdt("402.5155")),),
            5,
        )
    ]
    assert engine.margin_called() == {A}


def test_a_call_is_issued_once_per_crossing(engine: Engine) -> None:
    ok(engine, mark(CALL))
    assert calls(ok(engine, mark(CALL - 500, ts=6))) == [], "still called: not again"
    assert calls(ok(engine, mark(CALL + 500, ts=7))) == [MarginCallLifted(A, 7)]
    assert engine.margin_called() == frozenset()
    again = calls(ok(engine, mark(CALL, ts=8)))
    assert [type(e) for e in again] == [MarginCallIssued]


def test_a_mark_that_jumps_past_liquidation_liquidates_without_a_call(engine: Engine) -> None:
    ok(engine, FundAccount(D, usdt(10_000_000), 0))
    ok(engine, PlaceOrder(D, BTC, Side.BUY, OrderType.LIMIT, LOT, 900_000, TimeInForce.GTC,
                          False, "", 1))  # fmt: skip
    events = ok(engine, mark(900_000))
    assert [e.account for e in events if isinstance(e, PositionLiquidated)] == [A]
    assert calls(events) == []


def test_a_liquidation_lifts_the_call_it_followed(engine: Engine) -> None:
    ok(engine, mark(CALL))
    ok(engine, FundAccount(D, usdt(10_000_000), 0))
    ok(engine, PlaceOrder(D, BTC, Side.BUY, OrderType.LIMIT, LOT, 904_000, TimeInForce.GTC,
                          False, "", 1))  # fmt: skip
    events = ok(engine, mark(904_020, ts=6))
    assert calls(events) == [MarginCallLifted(A, 6)]
    assert events[-1] == MarginCallLifted(A, 6), "after the liquidation, nothing to call on"


def test_a_collateral_price_drop_issues_a_call_to_its_holders(symbols: SymbolTable) -> None:
    """D holds 600 USDE (570 of margin) and is long 0.4 BTC at 125x from 100,000 (maintenance
    160 less 0 of cum, wallet 550 after the 20 fee): ratio 29%. At 0.30 the USDE is worth 171,
    the wallet 151: ratio 106%, liquidated; at 0.36, worth 205.2 and a wallet of 185.2: 86%,
    a call."""
    engine = Engine(symbols, 20, CollateralTable.load().assets)
    ok(engine, FundAccount(C, usdt(1_000_000), 0))
    ok(engine, DepositCollateral(D, "USDE", usdt(600), 0))
    ok(engine, SetLeverage(D, BTC, 125, 0))
    ok(engine, mark(ENTRY, ts=0))
    trade(engine, D, C, 400, ENTRY)
    assert calls(ok(engine, UpdateCollateralPrice("USDE", 65 * PRICE_SCALE // 100, 6))) == []
    called = calls(ok(engine, UpdateCollateralPrice("USDE", 36 * PRICE_SCALE // 100, 7)))
    assert [(type(e), e.account) for e in called] == [(MarginCallIssued, D)]
    (issued,) = called
    assert isinstance(issued, MarginCallIssued)
    assert issued.wallet == usdt("185.2")
    restored = calls(ok(engine, UpdateCollateralPrice("USDE", PRICE_SCALE, 8)))
    assert restored == [MarginCallLifted(D, 8)]


def test_margin_calls_in_force_survive_a_replay(symbols: SymbolTable) -> None:
    original = Engine(symbols, 20)
    journal: list[Event] = []
    commands: list[Command] = [
        FundAccount(A, usdt(10_050), 0),
        FundAccount(C, usdt(1_000_000), 0),
        mark(ENTRY, ts=0),
        PlaceOrder(C, BTC, Side.SELL, OrderType.LIMIT, LOT, ENTRY, TimeInForce.GTC, False, "", 1),
        PlaceOrder(A, BTC, Side.BUY, OrderType.MARKET, LOT, None, None, False, "", 1),
        mark(CALL),
    ]
    for command in commands:
        journal += ok(original, command)
    restored = Engine(symbols, 20)
    for event in journal:
        restored.replay(event)
    assert restored.state() == original.state()
    assert restored.margin_called() == {A}
    for moved in (mark(CALL - 10, ts=6), mark(CALL + 10, ts=7), mark(CALL, ts=8)):
        assert restored.handle(moved) == original.handle(moved)


@pytest.mark.parametrize("ratio_ppm", [500_000, 1_000_000])
def test_the_level_lies_between_the_highest_maintenance_rate_and_liquidation(
    symbols: SymbolTable, ratio_ppm: int
) -> None:
    with pytest.raises(ConfigError, match="margin-call ratio"):
        Engine(symbols, 20, margin_call_ppm=ratio_ppm)
