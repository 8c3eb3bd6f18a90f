"""The pipeline's state, sampled from the session's real Redis by the roles that own it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis

from exchange_mock.settings import Role
from exchange_mock.store import records
from exchange_mock.store.keys import Keys
from exchange_mock.store.streams import journal_id
from exchange_mock.symbols import SymbolTable
from exchange_mock.telemetry.sampler import PipelineSampler
from exchange_mock.types import CASH_SCALE
from tests.telemetry.metrics import sample

NOW_S = 1_700_000_000.0
NOW_MS = int(NOW_S * 1000)
SYMBOLS = SymbolTable.load()
EVERY_ROLE = frozenset(Role)


@dataclass
class Relay:
    """The relay's own tallies, as the sampler reads them."""

    dropped: int = 0
    interruptions: int = 0


def sampler(
    redis: Redis, keys: Keys, roles: frozenset[Role] = EVERY_ROLE, relay: Relay | None = None
) -> PipelineSampler:
    return PipelineSampler(
        redis, keys, SYMBOLS, roles, relay, 1_000, clock=lambda: int(NOW_S * 1000)
    )


async def test_queue_depth_and_projector_lag_in_events_and_seconds(
    redis: Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    for _ in range(3):
        await redis.xadd(keys.orders, {"m": b"{}"})
    for seq in range(1, 6):
        journaled = int(NOW_S * 1000) - 2_500 + seq * 100
        await redis.xadd(keys.journal, {"m": b"{}", "t": journaled}, id=journal_id(seq))
    await redis.set(keys.journal_head, 5)
    await redis.set(keys.projector_seq, 2)
    await sampler(redis, keys).sample()
    assert sample("stampede_exchange_order_queue_depth") == 3
    assert sample("stampede_exchange_projector_lag_events") == 3
    # The oldest event the read model misses (seq 3) was journaled 2.2 s before now.
    assert sample("stampede_exchange_projector_lag_seconds") == pytest.approx(2.2)


async def test_liquidation_truth_fund_and_prices_from_the_read_model(
    redis: Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    btc = SYMBOLS.by_name["BTCUSDT"]
    await redis.hset(
        keys.liquidations,
        mapping={"BTCUSDT:count": 4, "BTCUSDT:notional": 250 * CASH_SCALE, "BTCUSDT:adl_count": 1},
    )
    await redis.hset(keys.totals, mapping={"fund": 1_234_500_000_000})
    mark = records.dump_mark(btc.ticks(btc.reference_price) or 0, 0, 1_224_990, 0)
    await redis.hset(keys.marks, mapping={"BTCUSDT": mark})
    await redis.hset(keys.ticker("BTCUSDT"), mapping={"last": 1_225_010})
    before = {
        name: sample(name, symbol="BTCUSDT")
        for name in (
            "stampede_exchange_liquidations_total",
            "stampede_exchange_liquidated_notional_usdt_total",
            "stampede_exchange_adl_total",
        )
    }
    await sampler(redis, keys).sample()
    grown = {name: sample(name, symbol="BTCUSDT") - value for name, value in before.items()}
    assert grown == {
        "stampede_exchange_liquidations_total": 4,
        "stampede_exchange_liquidated_notional_usdt_total": 250,
        "stampede_exchange_adl_total": 1,
    }
    assert sample("stampede_exchange_insurance_fund_usdt") == 12_345
    assert sample("stampede_exchange_mark_price_usdt", symbol="BTCUSDT") == 122_500
    assert sample("stampede_exchange_index_price_usdt", symbol="BTCUSDT") == 122_499
    assert sample("stampede_exchange_last_price_usdt", symbol="BTCUSDT") == 122_501


async def test_counts_kept_in_redis_only_add_what_they_grew_by(
    redis: Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    name = "stampede_exchange_liquidation_messages_total"
    feeds = sampler(redis, keys, frozenset({Role.FEEDS}))
    before = sample(name, symbol="ETHUSDT")
    for pushed, total in ((2, 2), (5, 5), (5, 5), (1, 6)):  # the last: a fresh Redis, from zero
        await redis.hset(keys.feed_stats, mapping={"forceOrder:ETHUSDT": pushed})
        await feeds.sample()
        assert sample(name, symbol="ETHUSDT") - before == total


async def test_each_role_reports_only_what_it_owns(redis: Redis, key_prefix: str) -> None:
    keys = Keys(key_prefix)
    await redis.xadd(keys.orders, {"m": b"{}"})
    await sampler(redis, keys, frozenset({Role.ENGINE})).sample()
    assert sample("stampede_exchange_order_queue_depth") == 1
    await redis.xadd(keys.orders, {"m": b"{}"})
    await sampler(redis, keys, frozenset({Role.PROJECTOR, Role.FEEDS, Role.MAKERS})).sample()
    assert sample("stampede_exchange_order_queue_depth") == 1  # not the engine's process


async def test_an_api_process_reports_the_clients_its_relay_dropped(
    redis: Redis, key_prefix: str
) -> None:
    relay = Relay()
    api = sampler(redis, Keys(key_prefix), frozenset({Role.API}), relay)
    slow = sample("stampede_exchange_ws_drops_total", reason="slow_consumer")
    lost = sample("stampede_exchange_ws_drops_total", reason="feed_interrupted")
    relay.dropped, relay.interruptions = 3, 1
    await api.sample()
    assert sample("stampede_exchange_ws_drops_total", reason="slow_consumer") == slow + 3
    assert sample("stampede_exchange_ws_drops_total", reason="feed_interrupted") == lost + 1


async def test_the_loop_stops_by_its_flag(redis: Redis, key_prefix: str) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(sampler(redis, Keys(key_prefix)).run(stop))
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=1)
