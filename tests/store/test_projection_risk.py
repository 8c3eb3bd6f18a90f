"""The projector's share of risk: collateral, the insurance fund and the truth counter in the
read model, and the audit that now counts them."""

from __future__ import annotations

from redis.asyncio import Redis

from exchange_mock.domain.events import (
    AccountFunded,
    BalanceChanged,
    CollateralConverted,
    CollateralDeposited,
    CollateralPriceUpdated,
    Event,
    FundFlow,
    InsuranceFundChanged,
    MarkPriceUpdated,
    PositionAutoDeleveraged,
    PositionChanged,
    PositionLiquidated,
)
from exchange_mock.store.audit import audit
from exchange_mock.store.keys import Keys
from exchange_mock.store.readmodel import ReadModel
from exchange_mock.types import AccountId, Side
from tests.store.conftest import Project

A, B, SHOCK = AccountId(1), AccountId(2), AccountId(99)
USDT = 10**8
NOTIONAL = 1_000_000 * 400 * 10_000
"""0.4 BTC at 100,000.0."""

# B holds 600 USDE and a 0.4 BTC long bought from A; the USDE price falls to 0.30 and B is
# liquidated: its long is sold back to A at 100,000 (filled) but 100 lots go by ADL to SHOCK,
# the clearance fee takes 151, the fund buys 600 USDE for 171 to clear B's USDT balance.
EVENTS: list[Event] = [
    AccountFunded(A, 10**6 * USDT, 10**6 * USDT, 1),
    AccountFunded(SHOCK, 10**6 * USDT, 10**6 * USDT, 1),
    InsuranceFundChanged(1_000 * USDT, 1_000 * USDT, FundFlow.SEEDED, None, 1),
    CollateralDeposited(B, "USDE", 600 * USDT, 600 * USDT, 1),
    CollateralPriceUpdated("USDE", 10**8, 50_000, 1),
    MarkPriceUpdated("BTCUSDT", 1_000_000, 2, 1_000_100, 10_000),
    PositionChanged(B, "BTCUSDT", 400, NOTIONAL, 2),
    BalanceChanged(B, -20 * USDT, 0, 20 * USDT, 2),
    PositionChanged(A, "BTCUSDT", -400, -NOTIONAL, 2),
    CollateralPriceUpdated("USDE", 30_000_000, 50_000, 3),
    PositionChanged(B, "BTCUSDT", 100, NOTIONAL // 4, 3),
    PositionChanged(A, "BTCUSDT", -100, -NOTIONAL // 4, 3),
    PositionAutoDeleveraged(SHOCK, "BTCUSDT", 100, 1_000_000, B, 3),
    PositionChanged(B, "BTCUSDT", 0, 0, 3),
    PositionChanged(SHOCK, "BTCUSDT", -100, -NOTIONAL // 4, 3),
    PositionChanged(A, "BTCUSDT", 0, 0, 3),
    PositionChanged(SHOCK, "BTCUSDT", 0, 0, 3),
    PositionLiquidated(
        B, "BTCUSDT", Side.SELL, 400, 995_000, 300, 30_000 * USDT, 100, NOTIONAL, 996_000, 3
    ),
    BalanceChanged(B, -171 * USDT, 0, 0, 3),
    InsuranceFundChanged(151 * USDT, 1_151 * USDT, FundFlow.CLEARANCE_FEE, B, 3),
    CollateralConverted(B, "USDE", 600 * USDT, 171 * USDT, 0, 600 * USDT, 3),
    BalanceChanged(B, 0, 0, 0, 3),
    InsuranceFundChanged(-171 * USDT, 980 * USDT, FundFlow.COLLATERAL, B, 3),
]


async def test_collateral_and_its_price_reach_the_account_view(
    redis: Redis, key_prefix: str, project: Project
) -> None:
    keys = Keys(key_prefix)
    await project(redis, keys, EVENTS[:6])
    view = await ReadModel(redis, keys).account(B)
    assert view.collateral == {"USDE": 600 * USDT}
    assert view.collateral_prices == {"USDE": (10**8, 50_000)}
    mark = await ReadModel(redis, keys).mark("BTCUSDT")
    assert (mark.price, mark.index, mark.funding_rate) == (1_000_000, 1_000_100, 10_000)


async def test_the_truth_counter_and_the_fund_are_in_the_read_model(
    redis: Redis, key_prefix: str, project: Project
) -> None:
    keys = Keys(key_prefix)
    await project(redis, keys, EVENTS)
    stats, fund, projected = await ReadModel(redis, keys).liquidations()
    btc = stats["BTCUSDT"]
    assert (btc.count, btc.notional, btc.time) == (1, NOTIONAL, 3)
    assert (btc.adl_count, btc.adl_notional) == (1, NOTIONAL - 30_000 * USDT)
    assert (fund, projected) == (980 * USDT, len(EVENTS))


async def test_the_audit_counts_the_fund_the_collateral_and_unlisted_accounts(
    redis: Redis, key_prefix: str, project: Project
) -> None:
    """SHOCK is not among the accounts the caller names, but it was funded: it is audited."""
    keys = Keys(key_prefix)
    await project(redis, keys, EVENTS)
    report = await audit(redis, keys, [A, B])
    assert report.passed, report
    assert report.insurance_fund == 980 * USDT
    assert report.collateral_seeded == report.collateral_held == {"USDE": 600 * USDT}
    assert report.fund_collateral == {"USDE": 600 * USDT}
    await redis.hset(keys.totals, "fund:USDE", 1)
    assert not (await audit(redis, keys, [A, B])).collateral_conserved
