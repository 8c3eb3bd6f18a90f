"""The projector turns the journal into the read model the API serves, stamped with sequences."""

from __future__ import annotations

from dataclasses import replace

from redis.asyncio import Redis

from exchange_mock.domain.events import (
    AccountFunded,
    BalanceChanged,
    Event,
    MarkPriceUpdated,
    OrderAccepted,
    OrderSnapshot,
    OrderUpdated,
    PositionAutoDeleveraged,
    PositionChanged,
    TradeExecuted,
)
from exchange_mock.store.audit import audit
from exchange_mock.store.keys import Keys
from exchange_mock.store.readmodel import ReadModel
from exchange_mock.types import (
    AccountId,
    OrderId,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TradeId,
)
from tests.store.conftest import Project

A, B = AccountId(1), AccountId(2)


def _order(order_id: int, account: AccountId, status: OrderStatus, filled: int) -> OrderSnapshot:
    return OrderSnapshot(
        order_id=OrderId(order_id),
        client_order_id=f"c{order_id}",
        account=account,
        symbol="BTCUSDT",
        side=Side.SELL,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        price=1_000_000,
        qty=10,
        executed_qty=filled,
        cum_quote=0,
        status=status,
        reduce_only=False,
        time=1,
        update_time=2,
    )


# A sells 4 lots at 100,000.0 (1,000,000 ticks) to B, who pays the taker fee.
NOTIONAL = 1_000_000 * 4 * 10_000
EVENTS: list[Event] = [
    AccountFunded(A, 10**12, 10**12, 1),
    AccountFunded(B, 10**12, 10**12, 1),
    MarkPriceUpdated("BTCUSDT", 1_000_000, 1),
    OrderAccepted(_order(1, A, OrderStatus.NEW, 0)),
    TradeExecuted("BTCUSDT", TradeId(1), 1_000_000, 4, Side.BUY, OrderId(2), OrderId(1), B, A, 2),
    PositionChanged(B, "BTCUSDT", 4, NOTIONAL, 2),
    BalanceChanged(B, 10**12 - 100, 0, 100, 2),
    PositionChanged(A, "BTCUSDT", -4, -NOTIONAL, 2),
    OrderUpdated(_order(1, A, OrderStatus.PARTIALLY_FILLED, 4)),
]


async def test_positions_balances_and_sequences_are_projected(
    redis: Redis, key_prefix: str, project: Project
) -> None:
    keys = Keys(key_prefix)
    await project(redis, keys, EVENTS)
    view = await ReadModel(redis, keys).account(B)
    assert view.balance == 10**12 - 100
    assert view.positions["BTCUSDT"].qty == 4
    assert view.positions["BTCUSDT"].cost == NOTIONAL
    assert view.seq == 7
    assert view.projected_seq == view.journal_head == len(EVENTS)
    assert view.marks == {"BTCUSDT": 1_000_000}


async def test_orders_are_found_by_either_id_and_open_orders_track_status(
    redis: Redis, key_prefix: str, project: Project
) -> None:
    keys = Keys(key_prefix)
    await project(redis, keys, EVENTS)
    reads = ReadModel(redis, keys)
    by_id = await reads.order(A, OrderId(1), None)
    by_client_id = await reads.order(A, None, "c1")
    assert by_id == by_client_id
    assert by_id is not None and by_id.executed_qty == 4
    assert [o.order_id for o in await reads.open_orders(A, "BTCUSDT")] == [1]
    assert await reads.open_orders(A, "ETHUSDT") == []
    assert await reads.order(A, OrderId(99), None) is None


async def test_ticker_accumulates_trades(redis: Redis, key_prefix: str, project: Project) -> None:
    keys = Keys(key_prefix)
    await project(redis, keys, EVENTS)
    ticker = await ReadModel(redis, keys).ticker("BTCUSDT")
    assert (ticker.last_price, ticker.volume, ticker.count) == (1_000_000, 4, 1)
    assert ticker.quote_volume == NOTIONAL
    assert (ticker.first_trade_id, ticker.last_trade_id) == (1, 1)


async def test_ticker_opens_at_the_genesis_price_before_any_trade(
    redis: Redis, key_prefix: str, project: Project
) -> None:
    """A fresh venue quotes a last price: the index its first mark came from, at that time."""
    keys = Keys(key_prefix)
    genesis = [MarkPriceUpdated("BTCUSDT", 1_000_100, 1_700_000_000_000, index=1_000_000)]
    await project(redis, keys, [*genesis, MarkPriceUpdated("BTCUSDT", 990_000, 1_700_000_003_000)])
    ticker = await ReadModel(redis, keys).ticker("BTCUSDT")
    assert (ticker.last_price, ticker.open_price, ticker.high_price, ticker.low_price) == (
        1_000_000,
        1_000_000,
        1_000_000,
        1_000_000,
    )
    assert (ticker.open_time, ticker.close_time) == (1_700_000_000_000, 1_700_000_000_000)
    assert (ticker.count, ticker.volume) == (0, 0)


async def test_audit_balances_when_money_is_conserved_and_flags_when_not(
    redis: Redis, key_prefix: str, project: Project
) -> None:
    keys = Keys(key_prefix)
    await project(redis, keys, EVENTS)
    report = await audit(redis, keys, [A, B])
    assert report.passed, report
    await redis.hset(keys.account(A), "bal", b"[1, 1]")
    assert not (await audit(redis, keys, [A, B])).cash_conserved


async def test_projector_resumes_where_it_stopped(
    redis: Redis, key_prefix: str, project: Project
) -> None:
    keys = Keys(key_prefix)
    await project(redis, keys, EVENTS[:4])
    await project(redis, keys, EVENTS, journaled=4)
    report = await audit(redis, keys, [A, B])
    # Re-projecting the first four would have counted the seed twice.
    assert report.seeded == 2 * 10**12
    assert report.passed


async def test_open_orders_margin_follows_fills_and_cancels_across_a_restart(
    redis: Redis, key_prefix: str, project: Project
) -> None:
    keys = Keys(key_prefix)
    await project(redis, keys, EVENTS)
    reads = ReadModel(redis, keys)
    unit = NOTIONAL // (1_000_000 * 4)
    assert (await reads.account(A)).open_notional == {"BTCUSDT": (0, 1_000_000 * 6 * unit)}
    bid = replace(_order(2, B, OrderStatus.NEW, 0), side=Side.BUY, price=900_000, qty=2)
    reducing = replace(_order(3, B, OrderStatus.NEW, 0), reduce_only=True)
    later = [
        *EVENTS,
        OrderAccepted(bid),
        OrderAccepted(reducing),
        OrderUpdated(_order(1, A, OrderStatus.CANCELED, 4)),
    ]
    # A projector started afresh learns the open orders from the read model before going on.
    await project(redis, keys, later, journaled=len(EVENTS))
    assert (await reads.account(A)).open_notional == {"BTCUSDT": (0, 0)}
    assert (await reads.account(B)).open_notional == {"BTCUSDT": (900_000 * 2 * unit, 0)}


async def test_finished_orders_expire_after_the_retention_and_open_ones_stay(
    redis: Redis, key_prefix: str, project: Project
) -> None:
    keys = Keys(key_prefix)
    resting = _order(7, A, OrderStatus.NEW, 0)
    done = _order(8, A, OrderStatus.NEW, 0)
    events: list[Event] = [
        AccountFunded(A, 10**12, 10**12, 1),
        OrderAccepted(resting),
        OrderAccepted(done),
        OrderUpdated(replace(done, status=OrderStatus.CANCELED)),
    ]
    await project(redis, keys, events, retention_ms=60_000)
    assert await redis.pttl(keys.order(A, 7)) == -1
    assert await redis.pttl(keys.client_order_id(A, "c7")) == -1
    assert 0 < await redis.pttl(keys.order(A, 8)) <= 60_000
    assert 0 < await redis.pttl(keys.client_order_id(A, "c8")) <= 60_000
    reads = ReadModel(redis, keys)
    assert (await reads.order(A, None, "c8")) is not None


async def test_trades_and_minute_bars_are_kept_from_the_listing_and_bounded(
    redis: Redis, key_prefix: str, project: Project
) -> None:
    """The histories start at the genesis bar and keep the newest trades only (the test's
    bound is 100, trimmed every 64 trades)."""
    keys, t0 = Keys(key_prefix), 1_700_000_040_000  # on a minute
    listing = MarkPriceUpdated("BTCUSDT", 1_000_000, t0, index=1_000_000)
    trades: list[Event] = [
        TradeExecuted(
            "BTCUSDT",
            TradeId(n),
            1_000_000 + n,
            2,
            Side.SELL if n % 2 else Side.BUY,
            OrderId(1000 + n),
            OrderId(1),
            B,
            A,
            t0 + 60_000 + n * 100,
        )
        for n in range(1, 201)
    ]
    await project(redis, keys, [listing, *trades])
    reads = ReadModel(redis, keys)

    newest = await reads.trades("BTCUSDT", None, 3)
    assert [t.trade_id for t in newest] == [198, 199, 200]
    # Trade 200's taker bought, so its buyer was not the maker; trade 199's taker sold.
    assert (newest[-1].price, newest[-1].qty, newest[-1].buyer_is_maker) == (1_000_200, 2, False)
    assert newest[-2].buyer_is_maker
    kept = await reads.trades("BTCUSDT", None, None)
    assert 100 <= len(kept) < 100 + 64
    assert [t.trade_id for t in await reads.trades("BTCUSDT", 190, 2)] == [190, 191]

    genesis, first = await reads.bars("BTCUSDT", t0, t0 + 10 * 60_000)
    assert (genesis.open_time, genesis.open, genesis.close, genesis.count) == (
        t0,
        1_000_000,
        1_000_000,
        0,
    )
    # The 200 trades, 100 ms apart, all fall in the minute after the listing's.
    assert (first.open_time, first.open, first.count) == (t0 + 60_000, 1_000_001, 200)
    assert (first.high, first.low, first.close, first.volume) == (
        1_000_200,
        1_000_001,
        1_000_200,
        400,
    )
    assert first.taker_buy_volume == 200  # the even trades were buys


async def test_liquidation_and_adl_orders_are_the_accounts_forced_orders(
    redis: Redis, key_prefix: str, project: Project
) -> None:
    """A liquidation's IOC order once it is done, and each auto-deleveraging as a filled
    `adl_autoclose` order on the opposite side."""
    keys = Keys(key_prefix)
    liquidation = replace(
        _order(7, A, OrderStatus.NEW, 0), client_order_id="autoclose-7", type=OrderType.LIQUIDATION
    )
    done = replace(liquidation, status=OrderStatus.EXPIRED, executed_qty=4, update_time=5)
    await project(
        redis,
        keys,
        [
            OrderAccepted(liquidation),
            OrderUpdated(done),
            PositionAutoDeleveraged(B, "BTCUSDT", 6, 990_000, A, 5),
        ],
    )
    reads = ReadModel(redis, keys)
    assert await reads.forced_orders(A) == [done]
    [adl] = await reads.forced_orders(B)
    assert (adl.client_order_id, adl.side, adl.qty, adl.executed_qty) == (
        "adl_autoclose",
        Side.BUY,
        6,
        6,
    )
    assert (adl.status, adl.price, adl.update_time) == (OrderStatus.FILLED, 990_000, 5)


async def test_open_interest_counts_the_long_lots_across_a_restart(
    redis: Redis, key_prefix: str, project: Project
) -> None:
    """The projector learns each position's size again from the read model when it starts,
    so a position shrinking after a restart moves the open interest by the right amount."""
    keys = Keys(key_prefix)
    t0 = 1_700_000_100_000
    events: list[Event] = [
        AccountFunded(A, 10**12, 10**12, t0),
        AccountFunded(B, 10**12, 10**12, t0),
        MarkPriceUpdated("BTCUSDT", 1_000_000, t0),
        PositionChanged(B, "BTCUSDT", 4, NOTIONAL, t0 + 1),
        PositionChanged(A, "BTCUSDT", -4, -NOTIONAL, t0 + 1),
        PositionChanged(B, "BTCUSDT", 1, NOTIONAL // 4, t0 + 400_000),
        PositionChanged(A, "BTCUSDT", -1, -NOTIONAL // 4, t0 + 400_000),
    ]
    await project(redis, keys, events[:5])
    reads = ReadModel(redis, keys)
    assert (await reads.open_interest("BTCUSDT")).lots == 4
    await project(redis, keys, events, journaled=5)  # a new projector, as after a restart

    now = await reads.open_interest("BTCUSDT")
    assert (now.lots, now.time) == (1, t0 + 400_000)
    first, second = await reads.open_interest_history("BTCUSDT", 0, t0 + 10**6)
    assert (first.lots, second.lots) == (4, 1)
    assert second.time - first.time == 300_000  # one five-minute snapshot each
    assert first.value == NOTIONAL  # four lots at the mark, the price they traded at


async def test_every_account_history_stays_bounded_whatever_its_ids(
    redis: Redis, key_prefix: str, project: Project
) -> None:
    """A history is trimmed by its own appends, not by the ids it happens to get: trimmed on
    ids divisible by 64, an account whose orders and trades never drew one (a round-robin
    load of 100 accounts has such accounts) grew for as long as the run went on."""
    keys, t0 = Keys(key_prefix), 1_700_000_040_000
    odd_ids = [64 * n + 1 for n in range(300)]
    events: list[Event] = [AccountFunded(A, 10**12, 10**12, t0)]
    for i, n in enumerate(odd_ids):
        order = replace(_order(n, A, OrderStatus.FILLED, 10), time=t0 + i, update_time=t0 + i)
        events.append(OrderAccepted(order))
        events.append(
            TradeExecuted(
                "BTCUSDT",
                TradeId(n),
                1_000_000,
                1,
                Side.BUY,
                OrderId(n),
                OrderId(1),
                A,
                B,
                t0 + i,
            )
        )
        events.append(BalanceChanged(A, 10**12 - i, 0, 1, t0 + i))
    await project(redis, keys, events)
    for key in (
        keys.order_log(A, "BTCUSDT"),
        keys.fills(A, "BTCUSDT"),
        keys.fills(B, "BTCUSDT"),
        keys.income(A),
    ):
        assert 100 <= await redis.zcard(key) < 100 + 64, key
