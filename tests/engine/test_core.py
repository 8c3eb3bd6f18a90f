from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from itertools import chain

import pytest

from exchange_mock.collateral import CollateralTable
from exchange_mock.domain.commands import (
    CancelAllOrders,
    CancelOrder,
    Command,
    DepositCollateral,
    FundAccount,
    PlaceOrder,
    SeedInsuranceFund,
    SetLeverage,
    SettleFunding,
    UpdateCollateralPrice,
    UpdateMarkPrice,
)
from exchange_mock.domain.events import (
    AccountFunded,
    AdlQuantilesUpdated,
    BalanceChanged,
    Event,
    FundingFeeCharged,
    LeverageChanged,
    MarginCallIssued,
    MarginCallLifted,
    MarkPriceUpdated,
    OrderAccepted,
    OrderSnapshot,
    OrderUpdated,
    PositionAutoDeleveraged,
    PositionChanged,
    PositionLiquidated,
    TradeExecuted,
)
from exchange_mock.domain.replies import Done, Rejected, Reply
from exchange_mock.engine import Engine
from exchange_mock.risk import PRICE_SCALE
from exchange_mock.symbols import SymbolTable, to_cash
from exchange_mock.types import (
    OPEN_STATUSES,
    PPM,
    AccountId,
    OrderId,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)

BTC, ETH = "BTCUSDT", "ETHUSDT"
MARK = 1_225_000
"""BTCUSDT's mark in ticks: 122,500.0."""
ETH_MARK = 435_000
"""ETHUSDT's mark in ticks: 4,350.00."""
UNIT = 10_000
"""BTCUSDT cash per tick × lot."""
A, B, C, D = (AccountId(n) for n in (1, 2, 3, 4))
BUY, SELL = Side.BUY, Side.SELL
GTC, IOC, FOK, GTX = TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.GTX


def usdt(amount: str | int) -> int:
    return to_cash(Decimal(amount))


def limit(
    account: AccountId,
    side: Side,
    qty: int,
    price: int,
    tif: TimeInForce = GTC,
    *,
    reduce_only: bool = False,
    client_id: str = "",
    symbol: str = BTC,
    ts: int = 1,
) -> PlaceOrder:
    return PlaceOrder(
        account, symbol, side, OrderType.LIMIT, qty, price, tif, reduce_only, client_id, ts
    )


def market(
    account: AccountId, side: Side, qty: int, *, reduce_only: bool = False, symbol: str = BTC
) -> PlaceOrder:
    return PlaceOrder(account, symbol, side, OrderType.MARKET, qty, None, None, reduce_only, "", 1)


def done(engine: Engine, command: Command) -> tuple[list[Event], tuple[OrderSnapshot, ...]]:
    events, reply = engine.handle(command)
    assert isinstance(reply, Done), reply
    return events, reply.orders


def placed(engine: Engine, command: Command) -> OrderSnapshot:
    return done(engine, command)[1][0]


def rejected(engine: Engine, command: Command) -> Rejected:
    """The command's rejection, after checking it produced no events and changed nothing."""
    before = engine.state()
    events, reply = engine.handle(command)
    assert isinstance(reply, Rejected), reply
    assert events == []
    assert engine.state() == before
    return reply


def new_engine(symbols: SymbolTable, *funded: tuple[AccountId, int]) -> Engine:
    engine = Engine(symbols, 20)
    for account, amount in funded:
        engine.handle(FundAccount(account, amount, 0))
    engine.handle(UpdateMarkPrice(BTC, MARK, 0))
    engine.handle(UpdateMarkPrice(ETH, ETH_MARK, 0))
    return engine


@pytest.fixture
def engine(symbols: SymbolTable) -> Engine:
    return new_engine(symbols, *((account, usdt(1_000_000)) for account in (A, B, C)))


def kinds(events: list[Event]) -> list[str]:
    return [type(event).__name__ for event in events]


# -- funding, leverage, marks -------------------------------------------------------------------


def test_funding_credits_the_balance_and_counts_as_seeded(symbols: SymbolTable) -> None:
    engine = Engine(symbols, 20)
    events, reply = engine.handle(FundAccount(A, 500, 7))
    assert (events, reply) == ([AccountFunded(A, 500, 500, 7)], Done())
    assert engine.handle(FundAccount(A, 250, 8))[0] == [AccountFunded(A, 250, 750, 8)]
    audit = engine.audit()
    assert (audit.seeded, audit.balances, audit.balanced) == (750, 750, True)


def test_funding_must_be_positive(engine: Engine) -> None:
    assert rejected(engine, FundAccount(A, 0, 1)).code == -1130


def test_leverage_changes_up_to_the_symbols_maximum(engine: Engine) -> None:
    assert engine.handle(SetLeverage(A, BTC, 125, 3)) == ([LeverageChanged(A, BTC, 125, 3)], Done())
    assert rejected(engine, SetLeverage(A, BTC, 126, 3)) == Rejected(
        -4028, "Leverage 126 is not valid"
    )
    assert rejected(engine, SetLeverage(A, BTC, 0, 3)).code == -4028


def test_leverage_cannot_rise_past_what_the_position_allows(engine: Engine) -> None:
    placed(engine, limit(B, SELL, 500, MARK))
    done(engine, market(A, BUY, 500))  # 61,250 of notional: more than the 50,000 cap at 125x
    assert rejected(engine, SetLeverage(A, BTC, 125, 3)) == Rejected(
        -2027, "Exceeded the maximum allowable position at current leverage."
    )
    assert engine.handle(SetLeverage(A, BTC, 100, 3))[0] == [LeverageChanged(A, BTC, 100, 3)]


def test_a_mark_update_is_journaled(engine: Engine) -> None:
    assert engine.handle(UpdateMarkPrice(BTC, 1_000, 5)) == (
        [MarkPriceUpdated(BTC, 1_000, 5)],
        Done(),
    )


@pytest.mark.parametrize(
    "command",
    [
        limit(A, BUY, 1, MARK, symbol="DOGEUSDT"),
        CancelOrder(A, "DOGEUSDT", OrderId(1), None, 1),
        CancelAllOrders(A, "DOGEUSDT", 1),
        SetLeverage(A, "DOGEUSDT", 5, 1),
        UpdateMarkPrice("DOGEUSDT", 5, 1),
    ],
)
def test_an_unlisted_symbol_is_rejected(engine: Engine, command: Command) -> None:
    assert rejected(engine, command) == Rejected(-1121, "Invalid symbol.")


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (limit(A, BUY, 0, MARK), -1102),
        (PlaceOrder(A, BTC, BUY, OrderType.LIMIT, 1, None, GTC, False, "", 1), -1102),
        (PlaceOrder(A, BTC, BUY, OrderType.LIMIT, 1, MARK, None, False, "", 1), -1102),
        (market(A, BUY, 0), -1102),
        (PlaceOrder(A, BTC, BUY, OrderType.LIQUIDATION, 1, MARK, GTC, False, "", 1), -1116),
    ],
)
def test_a_malformed_order_is_refused_rather_than_crashing(
    engine: Engine, command: PlaceOrder, code: int
) -> None:
    assert rejected(engine, command).code == code


# -- resting and matching -----------------------------------------------------------------------


def test_a_resting_limit_order_is_accepted_and_shows_in_depth(engine: Engine) -> None:
    events, orders = done(engine, limit(A, BUY, 3, MARK, client_id="mine", ts=9))
    snapshot = orders[0]
    assert events == [OrderAccepted(snapshot)]
    assert (snapshot.order_id, snapshot.client_order_id, snapshot.status) == (1, "mine", "NEW")
    assert (snapshot.executed_qty, snapshot.time, snapshot.update_time) == (0, 9, 9)
    assert engine.depth(BTC, 10) == (1, [(MARK, 3)], [])


def test_a_client_order_id_already_open_on_the_symbol_is_4116(engine: Engine) -> None:
    placed(engine, limit(A, BUY, 1, MARK - 100, client_id="retry-me"))

    duplicate = rejected(engine, limit(A, BUY, 1, MARK - 200, client_id="retry-me"))

    assert (duplicate.code, duplicate.msg) == (-4116, "ClientOrderId is duplicated.")


def test_a_client_order_id_is_free_again_once_its_order_is_closed_or_elsewhere(
    engine: Engine,
) -> None:
    first = placed(engine, limit(A, BUY, 1, MARK - 100, client_id="reuse"))
    placed(engine, limit(B, BUY, 1, MARK - 100, client_id="reuse"))  # another account
    placed(engine, limit(A, BUY, 1, ETH_MARK - 100, client_id="reuse", symbol=ETH))
    done(engine, CancelOrder(A, BTC, first.order_id, None, 2))

    assert placed(engine, limit(A, BUY, 1, MARK - 100, client_id="reuse")).status == "NEW"


def test_order_and_trade_ids_increase_from_one(engine: Engine) -> None:
    assert placed(engine, limit(A, SELL, 1, MARK)).order_id == 1
    assert placed(engine, limit(A, SELL, 1, MARK)).order_id == 2
    events, orders = done(engine, market(B, BUY, 2))
    assert orders[0].order_id == 3
    assert [e.trade_id for e in events if isinstance(e, TradeExecuted)] == [1, 2]


def test_a_crossing_order_reports_trades_then_accounts_then_orders(engine: Engine) -> None:
    first = placed(engine, limit(A, SELL, 2, MARK))
    second = placed(engine, limit(B, SELL, 1, MARK + 1))
    events, orders = done(engine, limit(C, BUY, 3, MARK + 1, ts=5))
    assert kinds(events) == [
        "OrderAccepted",
        "TradeExecuted",
        "TradeExecuted",
        "PositionChanged",
        "BalanceChanged",
        "PositionChanged",
        "BalanceChanged",
        "PositionChanged",
        "BalanceChanged",
        "OrderUpdated",
        "OrderUpdated",
        "OrderUpdated",
    ]
    assert [e.account for e in events if isinstance(e, PositionChanged)] == [C, A, B]
    taker, *makers = orders
    assert taker.status is OrderStatus.FILLED
    assert [m.order_id for m in makers] == [first.order_id, second.order_id]
    assert [e.order for e in events if isinstance(e, OrderUpdated)] == [*makers, taker]
    trades = [e for e in events if isinstance(e, TradeExecuted)]
    assert [(t.price, t.qty, t.maker, t.taker) for t in trades] == [
        (MARK, 2, A, C),
        (MARK + 1, 1, B, C),
    ]
    assert taker.cum_quote == (2 * MARK + MARK + 1) * UNIT


def test_fills_charge_the_taker_and_maker_fees_and_settle_positions(engine: Engine) -> None:
    placed(engine, limit(A, SELL, 2, MARK))
    events, _ = done(engine, market(B, BUY, 2))
    notional = 2 * MARK * UNIT
    taker_fee, maker_fee = notional * 500 // PPM, notional * 200 // PPM
    million = usdt(1_000_000)
    assert [e for e in events if isinstance(e, PositionChanged | BalanceChanged)] == [
        PositionChanged(B, BTC, 2, notional, 1),
        BalanceChanged(B, million - taker_fee, 0, taker_fee, 1),
        PositionChanged(A, BTC, -2, -notional, 1),
        BalanceChanged(A, million - maker_fee, 0, maker_fee, 1),
    ]
    audit = engine.audit()
    assert audit.fees == taker_fee + maker_fee
    assert audit.balanced


def test_closing_a_position_realizes_pnl_into_the_balance(engine: Engine) -> None:
    placed(engine, limit(A, SELL, 2, MARK))
    done(engine, market(B, BUY, 2))
    placed(engine, limit(C, BUY, 2, MARK + 100))
    events, _ = done(engine, market(B, SELL, 2))
    balance = next(e for e in events if isinstance(e, BalanceChanged) and e.account == B)
    assert balance.realized_pnl == 2 * 100 * UNIT
    assert PositionChanged(B, BTC, 0, 0, 1) in events


def test_a_self_trade_moves_no_position_but_charges_both_fees(engine: Engine) -> None:
    placed(engine, limit(A, SELL, 2, MARK))
    events, _ = done(engine, limit(A, BUY, 2, MARK))
    notional = 2 * MARK * UNIT
    fees = notional * 500 // PPM + notional * 200 // PPM
    assert kinds(events) == [
        "OrderAccepted",
        "TradeExecuted",
        "BalanceChanged",
        "OrderUpdated",
        "OrderUpdated",
    ]
    assert events[2] == BalanceChanged(A, usdt(1_000_000) - fees, 0, fees, 1)


def test_an_ioc_order_fills_what_it_can_and_expires_the_rest(engine: Engine) -> None:
    placed(engine, limit(A, SELL, 2, MARK))
    taker = placed(engine, limit(B, BUY, 5, MARK, IOC))
    assert (taker.status, taker.executed_qty) == (OrderStatus.EXPIRED, 2)
    assert engine.depth(BTC, 5)[1:] == ([], [])


def test_an_ioc_order_with_nothing_to_take_is_accepted_then_expires(engine: Engine) -> None:
    events, orders = done(engine, limit(B, BUY, 5, MARK, IOC))
    assert orders[0].status is OrderStatus.EXPIRED
    assert kinds(events) == ["OrderAccepted", "OrderUpdated"]
    assert events[1] == OrderUpdated(orders[0])
    assert placed(engine, limit(B, BUY, 1, MARK)).order_id == 2


def test_a_fok_order_that_cannot_fill_completely_is_rejected_unrecorded(engine: Engine) -> None:
    placed(engine, limit(A, SELL, 2, MARK))
    assert rejected(engine, limit(B, BUY, 3, MARK, FOK)) == Rejected(
        -5021,
        "Due to the order could not be filled immediately, the FOK order has been rejected. "
        "The order will not be recorded in the order history",
    )
    assert placed(engine, limit(B, BUY, 1, MARK - 10)).order_id == 2


def test_a_fok_order_that_can_fill_completely_fills(engine: Engine) -> None:
    placed(engine, limit(A, SELL, 2, MARK))
    placed(engine, limit(A, SELL, 2, MARK + 1))
    assert placed(engine, limit(B, BUY, 3, MARK + 1, FOK)).status is OrderStatus.FILLED


def test_a_post_only_order_that_would_take_is_rejected(engine: Engine) -> None:
    placed(engine, limit(A, SELL, 2, MARK))
    assert rejected(engine, limit(B, BUY, 1, MARK, GTX)) == Rejected(
        -5022,
        "Due to the order could not be executed as maker, the Post Only order will be rejected. "
        "The order will not be recorded in the order history",
    )
    assert placed(engine, limit(B, BUY, 1, MARK - 1, GTX)).status is OrderStatus.NEW


def test_a_market_order_sweeps_levels_at_the_makers_prices(engine: Engine) -> None:
    for offset in (0, 5, 9):
        placed(engine, limit(A, SELL, 1, MARK + offset))
    events, orders = done(engine, market(B, BUY, 2))
    assert [e.price for e in events if isinstance(e, TradeExecuted)] == [MARK, MARK + 5]
    assert orders[0].status is OrderStatus.FILLED
    assert engine.depth(BTC, 5)[2] == [(MARK + 9, 1)]


def test_a_market_order_expires_what_the_book_cannot_fill(engine: Engine) -> None:
    placed(engine, limit(A, SELL, 1, MARK))
    taker = placed(engine, market(B, BUY, 4))
    assert (taker.status, taker.executed_qty) == (OrderStatus.EXPIRED, 1)


def test_a_market_order_into_an_empty_book_expires(engine: Engine) -> None:
    events, orders = done(engine, market(B, BUY, 4))
    assert orders[0].status is OrderStatus.EXPIRED
    assert kinds(events) == ["OrderAccepted", "OrderUpdated"]


def test_a_market_order_below_the_minimum_notional_is_rejected(engine: Engine) -> None:
    placed(engine, limit(A, SELL, 10, ETH_MARK, symbol=ETH))
    assert rejected(engine, market(B, BUY, 4, symbol=ETH)) == Rejected(
        -4164, "Order's notional must be no smaller than 20 (unless you choose reduce only)."
    )
    assert placed(engine, market(B, BUY, 5, symbol=ETH)).status is OrderStatus.FILLED
    placed(engine, limit(C, BUY, 10, ETH_MARK, symbol=ETH))
    closing = placed(engine, market(B, SELL, 2, reduce_only=True, symbol=ETH))
    assert closing.status is OrderStatus.FILLED


# -- price limits and reduce-only ---------------------------------------------------------------


def test_a_buy_above_the_mark_times_multiplier_up_is_rejected(engine: Engine) -> None:
    assert rejected(engine, limit(A, BUY, 1, 1_286_251)) == Rejected(
        -4016, "Limit price can't be higher than 128625.00."
    )
    assert placed(engine, limit(A, BUY, 1, 1_286_250)).status is OrderStatus.NEW


def test_a_sell_below_the_mark_times_multiplier_down_is_rejected(engine: Engine) -> None:
    assert rejected(engine, limit(A, SELL, 1, 1_163_749)) == Rejected(
        -4024, "Limit price can't be lower than 116375.00."
    )
    assert placed(engine, limit(A, SELL, 1, 1_163_750)).status is OrderStatus.NEW


def test_limit_prices_are_free_until_the_symbol_has_a_price(symbols: SymbolTable) -> None:
    engine = Engine(symbols, 20)
    for account in (A, B):
        engine.handle(FundAccount(account, usdt(1_000_000), 0))
    placed(engine, limit(A, SELL, 1, 2 * MARK))
    placed(engine, limit(B, BUY, 1, 2 * MARK))
    # The trade's price now stands in for the missing mark.
    assert rejected(engine, limit(B, BUY, 1, 3 * MARK)).code == -4016


@pytest.mark.parametrize(
    "command",
    [
        market(A, SELL, 1, reduce_only=True),  # no position
        market(B, BUY, 1, reduce_only=True),  # would add to a long
        market(B, SELL, 3, reduce_only=True),  # larger than the position
    ],
)
def test_a_reduce_only_order_must_shrink_the_position(engine: Engine, command: Command) -> None:
    placed(engine, limit(C, SELL, 2, MARK))
    done(engine, market(B, BUY, 2))
    assert rejected(engine, command) == Rejected(-2022, "ReduceOnly Order is rejected.")


def test_a_resting_reduce_only_order_expires_once_its_position_is_gone(engine: Engine) -> None:
    placed(engine, limit(C, SELL, 2, MARK))
    done(engine, market(A, BUY, 2))
    stale = placed(engine, limit(A, SELL, 2, MARK + 10, reduce_only=True))
    placed(engine, limit(B, BUY, 2, MARK))
    done(engine, market(A, SELL, 2))  # closes A's long against B
    events, orders = done(engine, limit(C, BUY, 2, MARK + 10))
    assert not [e for e in events if isinstance(e, TradeExecuted)]
    expired = orders[1]
    assert (expired.order_id, expired.status) == (stale.order_id, OrderStatus.EXPIRED)
    assert orders[0].status is OrderStatus.NEW
    assert engine.depth(BTC, 5) == (engine.depth(BTC, 5)[0], [(MARK + 10, 2)], [])


def test_max_open_orders_bounds_resting_orders_per_symbol(symbols: SymbolTable) -> None:
    spec = symbols.get(BTC)
    assert spec is not None
    small = SymbolTable(symbols=(spec.model_copy(update={"max_num_orders": 2}),))
    engine = Engine(small, 20)
    engine.handle(FundAccount(A, usdt(1_000_000), 0))
    placed(engine, limit(A, BUY, 1, MARK))
    placed(engine, limit(A, BUY, 1, MARK))
    assert rejected(engine, limit(A, BUY, 1, MARK)) == Rejected(
        -2025, "Reach max open order limit."
    )
    assert placed(engine, limit(A, BUY, 1, MARK, IOC)).status is OrderStatus.EXPIRED


# -- margin -------------------------------------------------------------------------------------


def test_an_order_needing_more_margin_than_available_is_rejected(symbols: SymbolTable) -> None:
    engine = new_engine(symbols, (D, usdt(1_000)))  # 1,000 at 20x: 20,000 of notional
    assert rejected(engine, limit(D, BUY, 200, MARK)) == Rejected(-2019, "Margin is insufficient.")
    placed(engine, limit(D, BUY, 150, MARK))  # holds 918.75
    assert rejected(engine, limit(D, BUY, 20, MARK)).code == -2019  # needs 122.50


def test_higher_leverage_needs_less_margin(symbols: SymbolTable) -> None:
    engine = new_engine(symbols, (D, usdt(1_000)))
    engine.handle(SetLeverage(D, BTC, 50, 1))
    assert placed(engine, limit(D, BUY, 200, MARK)).status is OrderStatus.NEW


def test_reduce_only_orders_skip_the_margin_check_and_hold_none(symbols: SymbolTable) -> None:
    engine = new_engine(symbols, (D, usdt(1_000)), (B, usdt(1_000_000)))
    placed(engine, limit(B, SELL, 100, MARK))
    done(engine, market(D, BUY, 100))  # holds 612.50; fee 6.125; 381.375 left
    assert rejected(engine, limit(D, SELL, 100, MARK + 100)).code == -2019
    placed(engine, limit(D, SELL, 100, MARK + 100, reduce_only=True))
    assert placed(engine, limit(D, BUY, 60, MARK - 100)).status is OrderStatus.NEW  # 363.00


def test_a_position_beyond_the_leverages_cap_is_rejected(engine: Engine) -> None:
    engine.handle(SetLeverage(A, BTC, 125, 1))  # cap 50,000
    assert rejected(engine, limit(A, BUY, 500, MARK)) == Rejected(
        -2027, "Exceeded the maximum allowable position at current leverage."
    )
    assert placed(engine, limit(A, BUY, 400, MARK)).status is OrderStatus.NEW
    engine.handle(SetLeverage(A, BTC, 20, 1))
    assert placed(engine, limit(A, BUY, 500, MARK)).status is OrderStatus.NEW


# -- cancels ------------------------------------------------------------------------------------


def test_cancel_by_order_id_takes_the_order_out_of_the_book(engine: Engine) -> None:
    order = placed(engine, limit(A, BUY, 3, MARK))
    events, orders = done(engine, CancelOrder(A, BTC, order.order_id, None, 4))
    assert (orders[0].status, orders[0].update_time) == (OrderStatus.CANCELED, 4)
    assert events == [OrderUpdated(orders[0])]
    assert engine.depth(BTC, 5)[1] == []


def test_cancel_by_client_order_id(engine: Engine) -> None:
    placed(engine, limit(A, BUY, 1, MARK, client_id="x"))
    mine = placed(engine, limit(A, BUY, 1, MARK, client_id="y"))
    _, orders = done(engine, CancelOrder(A, BTC, None, "y", 2))
    assert orders[0].order_id == mine.order_id
    assert engine.depth(BTC, 5)[1] == [(MARK, 1)]


def test_cancelling_an_order_that_is_not_open_is_rejected(engine: Engine) -> None:
    unknown = Rejected(-2011, "Unknown order sent.")
    order = placed(engine, limit(A, SELL, 1, MARK))
    assert rejected(engine, CancelOrder(B, BTC, order.order_id, None, 2)) == unknown
    assert rejected(engine, CancelOrder(A, ETH, order.order_id, None, 2)) == unknown
    assert rejected(engine, CancelOrder(A, BTC, OrderId(99), None, 2)) == unknown
    assert rejected(engine, CancelOrder(A, BTC, None, "nope", 2)) == unknown
    done(engine, market(B, BUY, 1))
    assert rejected(engine, CancelOrder(A, BTC, order.order_id, None, 2)) == unknown


def test_a_cancel_must_name_an_order(engine: Engine) -> None:
    assert rejected(engine, CancelOrder(A, BTC, None, None, 2)).code == -1102


def test_cancel_all_takes_only_the_accounts_orders_on_the_symbol(engine: Engine) -> None:
    first = placed(engine, limit(A, BUY, 1, MARK))
    second = placed(engine, limit(A, SELL, 1, MARK + 5))
    placed(engine, limit(A, BUY, 10, ETH_MARK, symbol=ETH))
    placed(engine, limit(B, BUY, 2, MARK - 1))
    events, orders = done(engine, CancelAllOrders(A, BTC, 3))
    assert [o.order_id for o in orders] == [first.order_id, second.order_id]
    assert all(o.status is OrderStatus.CANCELED for o in orders)
    assert events == [OrderUpdated(o) for o in orders]
    assert engine.depth(BTC, 5)[1:] == ([(MARK - 1, 2)], [])
    assert engine.depth(ETH, 5)[1] == [(ETH_MARK, 10)]
    assert engine.handle(CancelAllOrders(A, BTC, 4)) == ([], Done())
    assert engine.handle(CancelAllOrders(D, BTC, 4)) == ([], Done())


def test_the_book_update_id_grows_with_order_and_trade_events(engine: Engine) -> None:
    placed(engine, limit(A, SELL, 1, MARK))
    assert engine.depth(BTC, 1)[0] == 1
    done(engine, market(B, BUY, 1))  # accepted, trade, maker updated, taker updated
    assert engine.depth(BTC, 1)[0] == 5
    assert engine.depth(ETH, 1)[0] == 0


# -- whole-engine properties under a seeded burst -----------------------------------------------

ACCOUNTS = [AccountId(n) for n in range(1, 13)]
ASSETS = CollateralTable.load().assets


def burst_engine(symbols: SymbolTable) -> Engine:
    """An engine with collateral and a margin-call level of 51%: at 80% the zone before
    liquidation is a tenth of a percent of price at 125x, which the burst's marks jump over;
    at 51% its accounts are called and lifted often."""
    return Engine(symbols, 20, ASSETS, margin_call_ppm=510_000)


def burst(engine: Engine, seed: int, count: int) -> Iterator[tuple[Command, list[Event], Reply]]:
    """A seeded mix of every command from many accounts, each handled before the next is drawn
    (so cancels and reduce-only orders can aim at real orders and positions). Marks sometimes
    jump, the collateral's price swings and funding is charged, so accounts are margin-called
    and liquidated, by the book, with the small insurance fund's help and by auto-deleveraging.
    Commands are 100 ms apart, so ADL quantiles are ranked every 300 of them."""
    rng = random.Random(seed)
    funding_times = itertools.count(1)
    marks = {BTC: MARK, ETH: ETH_MARK}
    lots = {BTC: (1, 120), ETH: (5, 1_500)}
    positions: dict[tuple[AccountId, str], int] = {}
    open_ids: list[tuple[AccountId, str, OrderId, str]] = []

    def command_for(ts: int) -> Command:
        account = rng.choice(ACCOUNTS[:4] if rng.random() < 0.4 else ACCOUNTS)
        symbol = rng.choice((BTC, ETH))
        roll = rng.random()
        if roll < 0.03:
            return FundAccount(account, usdt(rng.randint(1, 5_000)), ts)
        if roll < 0.04:
            return SetLeverage(account, symbol, rng.randint(1, 130), ts)
        if roll < 0.07:
            move = rng.randint(985, 1_015) if rng.random() < 0.7 else rng.randint(920, 1_080)
            marks[symbol] = marks[symbol] * move // 1_000
            return UpdateMarkPrice(symbol, marks[symbol], ts)
        if roll < 0.075:
            price = PRICE_SCALE * rng.randint(30, 105) // 100
            return UpdateCollateralPrice("USDE", price, ts)
        if roll < 0.08:
            return SettleFunding(symbol, rng.randint(-300_000, 300_000), next(funding_times), ts)
        if roll < 0.25 and open_ids:
            owner, where, order_id, client_id = rng.choice(open_ids)
            by_client = rng.random() < 0.3
            return CancelOrder(
                owner, where, None if by_client else order_id, client_id if by_client else None, ts
            )
        if roll < 0.27:
            return CancelAllOrders(account, symbol, ts)
        held = positions.get((account, symbol), 0)
        reduce_only = bool(held) and rng.random() < 0.15
        side = (SELL if held > 0 else BUY) if reduce_only else rng.choice((BUY, SELL))
        if account <= 4 and not reduce_only:
            side = BUY if account % 2 else SELL  # gamblers build one-way positions
        qty = (
            min(abs(held), rng.randint(*lots[symbol]))
            if reduce_only
            else rng.randint(*lots[symbol])
        )
        if roll < 0.35:
            return PlaceOrder(
                account, symbol, side, OrderType.MARKET, qty, None, None, reduce_only, f"c{ts}", ts
            )
        bps = rng.randint(-40, 25) if rng.random() < 0.97 else rng.randint(-700, 700)
        price = marks[symbol] + side.sign * bps * marks[symbol] // 10_000
        tif = rng.choice((GTC, GTC, GTC, GTC, IOC, FOK, GTX))
        return PlaceOrder(
            account, symbol, side, OrderType.LIMIT, qty, price, tif, reduce_only, f"c{ts}", ts
        )

    # The first four gamble at 125x on a few hundred USDT: the liquidations' raw material.
    genesis: list[Command] = [
        FundAccount(
            account, usdt(rng.randint(100, 400) if account <= 4 else rng.randint(500, 50_000)), 0
        )
        for account in ACCOUNTS
    ]
    genesis += [SetLeverage(a, symbol, 125, 0) for a in ACCOUNTS[:4] for symbol in (BTC, ETH)]
    genesis += [DepositCollateral(account, "USDE", usdt(5_000), 0) for account in ACCOUNTS[::3]]
    genesis.append(SeedInsuranceFund(usdt(50), 0))
    genesis += [UpdateMarkPrice(symbol, price, 0) for symbol, price in marks.items()]
    for command in chain(genesis, (command_for(step * 100) for step in range(1, count + 1))):
        events, reply = engine.handle(command)
        for event in events:
            if isinstance(event, PositionChanged):
                positions[(event.account, event.symbol)] = event.qty
            elif isinstance(event, OrderAccepted | OrderUpdated):
                order = event.order
                entry = (order.account, order.symbol, order.order_id, order.client_order_id)
                if order.status in OPEN_STATUSES and entry not in open_ids:
                    open_ids.append(entry)
                elif order.status not in OPEN_STATUSES and entry in open_ids:
                    open_ids.remove(entry)
        yield command, events, reply


def test_conservation_holds_after_every_command(symbols: SymbolTable) -> None:
    """Σ balances − Σ costs + fees + fund == Σ funded and every symbol nets to zero, to the
    last cash unit, after each of thousands of commands: trades, cancels, rejections, leverage
    and mark moves, funding, liquidations."""
    codes: set[int] = set()
    seen: Counter[type] = Counter()
    for seed in (1, 2, 3):
        engine = burst_engine(symbols)
        for _command, events, reply in burst(engine, seed, 3_000):
            audit = engine.audit()
            assert audit.balanced, audit
            seen.update(type(event) for event in events)
            if isinstance(reply, Rejected):
                codes.add(reply.code)
    # The burst reached them all.
    assert seen[TradeExecuted] > 2_000
    assert seen[PositionLiquidated] > 10
    assert seen[FundingFeeCharged] > 100
    assert seen[MarginCallIssued] and seen[MarginCallLifted]
    assert {-2019, -2027, -4016, -4024, -5021, -5022} <= codes


@pytest.mark.parametrize("seed", [2, 4])
def test_replaying_the_events_rebuilds_the_same_state(symbols: SymbolTable, seed: int) -> None:
    original = burst_engine(symbols)
    journal = [event for _, events, _ in burst(original, seed, 3_000) for event in events]
    kinds_seen = {type(event) for event in journal}
    assert {
        PositionLiquidated,
        PositionAutoDeleveraged,
        FundingFeeCharged,
        AdlQuantilesUpdated,
    } <= kinds_seen
    restored = burst_engine(symbols)
    for event in journal:
        restored.replay(event)
    assert restored.state() == original.state()
    assert restored.audit() == original.audit()
    # The restored engine carries on exactly as the original would.
    for command in (
        limit(A, BUY, 5, MARK + 30, IOC, ts=10_000),
        market(B, SELL, 5),
        CancelAllOrders(C, BTC, 10_001),
        UpdateMarkPrice(BTC, MARK * 8 // 10, 10_002),
        UpdateCollateralPrice("USDE", PRICE_SCALE // 2, 10_003),
        UpdateMarkPrice(ETH, ETH_MARK * 13 // 10, 10_004),
        SettleFunding(BTC, 250_000, 10**6, 10_005),
        UpdateMarkPrice(BTC, MARK * 7 // 10, 10**6),
    ):
        assert restored.handle(command) == original.handle(command)
    assert restored.state() == original.state()


def test_every_order_reply_names_the_placed_order_first(symbols: SymbolTable) -> None:
    engine = burst_engine(symbols)
    for command, _, reply in burst(engine, 6, 1_000):
        if isinstance(command, PlaceOrder) and isinstance(reply, Done):
            placed_order = reply.orders[0]
            assert (placed_order.client_order_id, placed_order.account) == (
                command.client_order_id,
                command.account,
            )
