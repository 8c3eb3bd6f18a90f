"""Funding and ADL quantiles through the real projector into the read model: the balances
funding moved, the quantiles positionRisk shows, and the conservation audit still passing with
funding's rounding in the insurance fund."""

from __future__ import annotations

from decimal import Decimal

from redis.asyncio import Redis

from exchange_mock.domain.commands import (
    Command,
    FundAccount,
    PlaceOrder,
    SettleFunding,
    UpdateMarkPrice,
)
from exchange_mock.domain.events import Event, FundingSettled
from exchange_mock.domain.replies import Done
from exchange_mock.engine import Engine
from exchange_mock.engine.adl import REFRESH_MS
from exchange_mock.store.audit import audit
from exchange_mock.store.keys import Keys
from exchange_mock.store.readmodel import ReadModel
from exchange_mock.symbols import SymbolTable, to_cash
from exchange_mock.types import AccountId, OrderType, Side, TimeInForce
from tests.store.conftest import Project

BTC = "BTCUSDT"
MARK = 1_225_000
LONG, SHORT, LATE = AccountId(1), AccountId(2), AccountId(3)


def journal() -> list[Event]:
    """LONG buys 0.003 BTC from SHORT and LATE; quantiles are ranked; funding is charged at
    0.012345% (LONG pays 0.04536788, the shorts receive 0.01512262 and 0.03024525, the fund
    keeps one unit); then LATE closes its short."""
    engine = Engine(SymbolTable.load(), 20)
    commands: list[Command] = [
        *(FundAccount(account, to_cash(Decimal(10_000)), 0) for account in (LONG, SHORT, LATE)),
        UpdateMarkPrice(BTC, MARK, 0),
        PlaceOrder(SHORT, BTC, Side.SELL, OrderType.LIMIT, 1, MARK, TimeInForce.GTC, False, "", 1),
        PlaceOrder(LATE, BTC, Side.SELL, OrderType.LIMIT, 2, MARK, TimeInForce.GTC, False, "", 1),
        PlaceOrder(LONG, BTC, Side.BUY, OrderType.MARKET, 3, None, None, False, "", 1),
        UpdateMarkPrice(BTC, MARK, REFRESH_MS),
        SettleFunding(BTC, 12_345, 2 * REFRESH_MS, 2 * REFRESH_MS),
        PlaceOrder(LONG, BTC, Side.SELL, OrderType.LIMIT, 2, MARK, TimeInForce.GTC, False, "", 3),
        PlaceOrder(LATE, BTC, Side.BUY, OrderType.MARKET, 2, None, None, False, "", 3),
        UpdateMarkPrice(BTC, MARK, 3 * REFRESH_MS),
    ]
    events: list[Event] = []
    for command in commands:
        produced, reply = engine.handle(command)
        assert isinstance(reply, Done), reply
        events += produced
    return events


async def test_funding_and_quantiles_reach_the_read_model_and_the_audit_passes(
    redis: Redis, key_prefix: str, project: Project
) -> None:
    keys = Keys(key_prefix)
    reads = ReadModel(redis, keys)
    events = journal()
    funding = next(i for i, event in enumerate(events) if isinstance(event, FundingSettled))
    await project(redis, keys, events[:funding])
    before = {account: await reads.account(account) for account in (LONG, SHORT, LATE)}
    # No profit on either short yet: the larger goes first, 4; the other, 2 (of two, in fifths).
    assert (before[SHORT].adl, before[LATE].adl, before[LONG].adl) == ({BTC: 2}, {BTC: 4}, {BTC: 4})
    await project(redis, keys, events, journaled=funding)
    after = {account: await reads.account(account) for account in (LONG, SHORT, LATE)}
    # LONG also paid the maker fee of its close: 0.02% of 245.
    assert after[LONG].balance - before[LONG].balance == -4_536_788 - 4_900_000
    assert after[SHORT].balance - before[SHORT].balance == 1_512_262
    assert (after[SHORT].adl, after[LATE].adl) == ({BTC: 4}, {BTC: 0})
    report = await audit(redis, keys, [LONG, SHORT, LATE])
    assert report.journal_head == len(events)
    assert report.passed, report
    assert report.insurance_fund == 1
