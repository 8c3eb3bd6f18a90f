"""Liquidation in the pure engine: at the right mark, through the book, the insurance fund and
auto-deleveraging, with collateral, conserved to the last unit, counted, and replayed exactly.

The accounts are built so the figures can be checked by hand: A is long 1 BTC bought at
100,000 with 10,000 of wallet after its taker fee, so its liquidation price is
(100,000 − 10,000 − 50) / 0.995 = 90,402.01 (bracket 2) and its bankruptcy price 90,000.
"""

from __future__ import annotations

import pytest

from exchange_mock.collateral import CollateralTable
from exchange_mock.domain.commands import (
    Command,
    DepositCollateral,
    FundAccount,
    SeedInsuranceFund,
    SetLeverage,
    UpdateCollateralPrice,
)
from exchange_mock.domain.events import (
    BalanceChanged,
    CollateralConverted,
    CollateralPriceUpdated,
    Event,
    FundFlow,
    InsuranceFundChanged,
    MarginCallIssued,
    MarginCallLifted,
    MarkPriceUpdated,
    OrderAccepted,
    OrderUpdated,
    PositionAutoDeleveraged,
    PositionChanged,
    PositionLiquidated,
    TradeExecuted,
)
from exchange_mock.engine import Engine
from exchange_mock.risk import PRICE_SCALE
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import AccountId, OrderStatus, OrderType, Side, TimeInForce
from tests.engine.commands import BTC, ETH, limit, mark, market, ok, usdt

UNIT = 10_000
LOT = 1_000
"""Lots in one BTC."""
ENTRY = 1_000_000
"""100,000.0 in ticks."""
A, C, C2, M, D = (AccountId(n) for n in (1, 2, 3, 4, 5))
GTC, IOC = TimeInForce.GTC, TimeInForce.IOC


@pytest.fixture(scope="module")
def collateral() -> CollateralTable:
    return CollateralTable.load()


@pytest.fixture
def engine(symbols: SymbolTable, collateral: CollateralTable) -> Engine:
    return Engine(symbols, 20, collateral.assets)


def long_a(
    engine: Engine, fund: int = 0, sellers: tuple[tuple[AccountId, int], ...] = ()
) -> list[Event]:
    """A long 1 BTC at 100,000 with 10,000 left after the 50 taker fee; the sellers (default:
    C with 1,000,000) short it at 100,000; M, a market maker with 10M, will bid. Returns the
    events, for replays."""
    sellers = sellers or ((C, usdt(1_000_000)),)
    commands: list[Command] = [
        FundAccount(A, usdt(10_050), 0),
        FundAccount(M, usdt(10_000_000), 0),
        *(FundAccount(seller, balance, 0) for seller, balance in sellers),
    ]
    if fund:
        commands.append(SeedInsuranceFund(fund, 0))
    commands.append(mark(ENTRY))
    commands += [limit(seller, Side.SELL, LOT // len(sellers), ENTRY) for seller, _ in sellers]
    commands.append(market(A, Side.BUY, LOT))
    return [event for command in commands for event in ok(engine, command)]


def of(events: list[Event], kind: type[Event]) -> list[Event]:
    return [event for event in events if isinstance(event, kind)]


def test_the_watch_list_holds_the_hand_computed_liquidation_price(engine: Engine) -> None:
    long_a(engine)
    assert engine.liquidation_price(A, BTC) == 904_020
    assert engine.liquidation_price(M, BTC) is None


def test_a_long_is_liquidated_at_its_liquidation_price_and_not_a_tick_above(
    engine: Engine,
) -> None:
    long_a(engine)
    ok(engine, limit(M, Side.BUY, LOT, 904_000))  # bids at 90,400.0
    # A tick above, the margin ratio is past the margin call's 80%, not yet at 100%.
    above = ok(engine, mark(904_021))
    assert [type(event) for event in above] == [MarkPriceUpdated, MarginCallIssued]
    events = ok(engine, mark(904_020))
    accepted = of(events, OrderAccepted)[0]
    assert isinstance(accepted, OrderAccepted)
    order = accepted.order
    assert (order.type, order.time_in_force, order.side) == (OrderType.LIQUIDATION, IOC, Side.SELL)
    assert order.client_order_id.startswith("autoclose-")
    assert order.price == 900_000  # the bankruptcy price
    [trade] = of(events, TradeExecuted)
    assert isinstance(trade, TradeExecuted)
    assert (trade.price, trade.qty, trade.maker) == (904_000, LOT, M)
    # Equity after the close: 10,000 + 90,400 − 100,000 = 400, all of it the clearance fee
    # (1.25% of 90,400 would be 1,130).
    [liquidated] = of(events, PositionLiquidated)
    assert liquidated == PositionLiquidated(
        A, BTC, Side.SELL, LOT, 900_000, LOT, usdt(90_400), 0, usdt(90_400), 904_020, 5
    )
    assert events[-3:] == [
        BalanceChanged(A, 0, 0, 0, 5),
        InsuranceFundChanged(usdt(400), usdt(400), FundFlow.CLEARANCE_FEE, A, 5),
        MarginCallLifted(A, 5),  # nothing left to call it on
    ]
    assert PositionChanged(A, BTC, 0, 0, 5) in events
    # The taker pays no trading fee: only the maker's is collected.
    assert engine.audit().fees == usdt(50) + usdt(20) + usdt("18.08")
    assert engine.audit().balanced
    stats = engine.liquidations()[BTC]
    assert (stats.count, stats.notional, stats.time) == (1, usdt(90_400), 5)
    assert engine.liquidation_price(A, BTC) is None


def test_liquidation_first_cancels_the_accounts_open_orders(engine: Engine) -> None:
    long_a(engine)
    ok(engine, limit(A, Side.SELL, 100, 1_040_000))
    ok(engine, limit(A, Side.BUY, 1, 430_000, symbol=ETH))
    ok(engine, limit(M, Side.BUY, LOT, 904_000))
    events = ok(engine, mark(904_020))
    cancelled = [e.order for e in events[1:3] if isinstance(e, OrderUpdated)]
    assert [(o.symbol, o.status) for o in cancelled] == [
        (BTC, OrderStatus.CANCELED),
        (ETH, OrderStatus.CANCELED),
    ]
    assert engine.depth(BTC, 5)[2] == []
    assert engine.depth(ETH, 5)[1] == []


def test_a_gap_past_bankruptcy_is_covered_by_the_insurance_fund(engine: Engine) -> None:
    """Bids only at 89,000, below the 90,000 bankruptcy price: the fund pays the 1,000 the
    close costs past it, and the account ends at zero."""
    long_a(engine, fund=usdt(100_000))
    ok(engine, limit(M, Side.BUY, LOT, 890_000))
    events = ok(engine, mark(895_000))
    orders = [e.order for e in of(events, OrderAccepted) if isinstance(e, OrderAccepted)]
    assert [(o.price, o.qty) for o in orders] == [(900_000, LOT), (890_000, LOT)]
    [liquidated] = of(events, PositionLiquidated)
    assert isinstance(liquidated, PositionLiquidated)
    assert (liquidated.filled, liquidated.cum_quote, liquidated.deleveraged) == (
        LOT,
        usdt(89_000),
        0,
    )
    assert events[-1] == InsuranceFundChanged(-usdt(1_000), usdt(99_000), FundFlow.DEFICIT, A, 5)
    assert engine.insurance_fund() == usdt(99_000)
    assert not of(events, PositionAutoDeleveraged)
    assert engine.audit().balanced


def test_what_the_fund_cannot_cover_is_auto_deleveraged_best_ranked_first(
    engine: Engine,
) -> None:
    """A 500 fund covers 500 lots at 89,000 (1 USDT a lot past bankruptcy); the other 500 are
    closed at 90,000 against C2, whose PnL% × margin ratio beats C's (same short, a twentieth
    of the wallet)."""
    long_a(engine, fund=usdt(500), sellers=((C, usdt(100_000)), (C2, usdt(5_000))))
    ok(engine, limit(M, Side.BUY, LOT, 890_000))
    events = ok(engine, mark(895_000))
    assert of(events, PositionAutoDeleveraged) == [
        PositionAutoDeleveraged(C2, BTC, 500, 900_000, A, 5)
    ]
    [liquidated] = of(events, PositionLiquidated)
    assert isinstance(liquidated, PositionLiquidated)
    assert (liquidated.filled, liquidated.deleveraged) == (500, 500)
    assert liquidated.notional == usdt(44_500) + usdt(45_000)
    assert PositionChanged(C2, BTC, 0, 0, 5) in events
    # A: 10,000 − 5,500 (500 lots at 89,000) − 5,000 (500 at 90,000) = −500, the fund's all.
    assert events[-1] == InsuranceFundChanged(-usdt(500), 0, FundFlow.DEFICIT, A, 5)
    stats = engine.liquidations()[BTC]
    assert (stats.deleveraged, stats.deleveraged_notional) == (1, usdt(45_000))
    assert engine.audit().balanced


def test_a_collateral_price_drop_liquidates_its_holders(engine: Engine) -> None:
    """D holds only 600 USDE (570 of margin at a 5% haircut) and is long 0.4 BTC at 125x
    (maintenance 160). At 0.65 the collateral still covers it; at 0.30 (171) less the 20 of
    fee it owes in USDT, it does not. The clearance fee takes what is left, and the fund buys
    the collateral needed to clear the negative USDT balance."""
    ok(engine, FundAccount(C, usdt(1_000_000), 0))
    ok(engine, FundAccount(M, usdt(10_000_000), 0))
    ok(engine, SeedInsuranceFund(usdt(1_000), 0))
    ok(engine, DepositCollateral(D, "USDE", usdt(600), 0))
    ok(engine, SetLeverage(D, BTC, 125, 0))
    ok(engine, mark(ENTRY))
    ok(engine, limit(C, Side.SELL, 400, ENTRY))
    ok(engine, market(D, Side.BUY, 400))
    ok(engine, limit(M, Side.BUY, 400, ENTRY))
    calm = ok(engine, UpdateCollateralPrice("USDE", 65 * PRICE_SCALE // 100, 6))
    assert calm == [CollateralPriceUpdated("USDE", 65_000_000, 50_000, 6)]
    events = ok(engine, UpdateCollateralPrice("USDE", 30 * PRICE_SCALE // 100, 7))
    [liquidated] = of(events, PositionLiquidated)
    assert isinstance(liquidated, PositionLiquidated)
    assert (liquidated.account, liquidated.filled, liquidated.cum_quote) == (D, 400, usdt(40_000))
    [converted] = of(events, CollateralConverted)
    assert isinstance(converted, CollateralConverted)
    # USDT: −20 (fee) − 151 (clearance: 171 − 20) = −171, bought back with 600 USDE at 0.285.
    assert (converted.amount, converted.value, converted.balance) == (usdt(600), usdt(171), 0)
    assert converted.fund_balance == usdt(600)
    audit = engine.audit()
    assert audit.balanced, audit
    assert audit.collateral_held == audit.collateral_seeded == {"USDE": usdt(600)}


def test_a_mark_move_in_one_symbol_moves_the_other_symbols_liquidation_price(
    engine: Engine,
) -> None:
    """Cross margin: A's ETH short losing money pulls A's BTC liquidation price up."""
    long_a(engine)
    ok(engine, FundAccount(A, usdt(10_000), 0))
    ok(engine, mark(400_000, ETH))
    ok(engine, limit(C, Side.BUY, 10_000, 400_000, ETH))
    ok(engine, market(A, Side.SELL, 10_000, ETH))
    before = engine.liquidation_price(A, BTC)
    ok(engine, mark(420_000, ETH))
    after = engine.liquidation_price(A, BTC)
    assert before is not None and after is not None
    # 2,000 of ETH loss plus 8 more of ETH margin: 2,008 / 0.995 = 2,018.1 more BTC price.
    assert after - before in (20_180, 20_181, 20_182)
    ok(engine, limit(M, Side.BUY, LOT, after))
    assert not of(ok(engine, mark(after + 1)), PositionLiquidated)
    closed = of(ok(engine, mark(after)), PositionLiquidated)
    assert [e.symbol for e in closed if isinstance(e, PositionLiquidated)] == [BTC, ETH]


def test_replay_rebuilds_the_fund_the_counters_and_the_watch_lists(
    symbols: SymbolTable, collateral: CollateralTable
) -> None:
    original = Engine(symbols, 20, collateral.assets)
    journal = long_a(original, fund=usdt(500), sellers=((C, usdt(100_000)), (C2, usdt(5_000))))
    for command in (
        limit(M, Side.BUY, LOT, 890_000),
        FundAccount(D, usdt(2_000), 0),
        DepositCollateral(D, "USDE", usdt(3_000), 0),
        limit(D, Side.SELL, 100, ENTRY),
        market(C, Side.BUY, 100),
        mark(895_000),
    ):
        journal += ok(original, command)
    assert original.liquidations()[BTC].count == 1
    restored = Engine(symbols, 20, collateral.assets)
    for event in journal:
        restored.replay(event)
    assert restored.state() == original.state()
    assert restored.audit() == original.audit()
    # The rebuilt watch lists liquidate the same accounts the same way.
    for command in (
        limit(M, Side.SELL, 50, 1_250_000),
        limit(C, Side.SELL, 200, 1_300_000),
        mark(1_250_000),
        UpdateCollateralPrice("USDE", PRICE_SCALE // 10, 9),
        mark(1_300_000),
    ):
        assert restored.handle(command) == original.handle(command)
    assert restored.state() == original.state()
