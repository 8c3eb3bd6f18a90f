"""New orders are shed with -1008 when the queue in front of the engine is too deep; orders that
reduce a position, cancels and the venue's market makers still queue. No engine runs here, so
every queued command times out (-1007) and the orders stream shows exactly what was queued."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from exchange_mock.domain.commands import CancelOrder, Command, PlaceOrder
from exchange_mock.errors import Code, ExchangeError
from exchange_mock.store.bus import OVERLOADED_MSG, CommandBus, Shedding
from exchange_mock.store.keys import Keys
from exchange_mock.types import AccountId, OrderId, OrderType, Side

DEPTH = 3
TRADER, MAKER = AccountId(1), AccountId(99)
ACK_TIMEOUT_MS = 500


def order(account: AccountId = TRADER, reduce_only: bool = False) -> PlaceOrder:
    return PlaceOrder(
        account=account,
        symbol="BTCUSDT",
        side=Side.SELL,
        type=OrderType.MARKET,
        qty=1,
        price=None,
        time_in_force=None,
        reduce_only=reduce_only,
        client_order_id="c",
        ts=1,
    )


@pytest.fixture
async def bus(redis: Redis, key_prefix: str) -> AsyncIterator[CommandBus]:
    bus = CommandBus(redis, Keys(key_prefix), ACK_TIMEOUT_MS, Shedding(DEPTH, frozenset({MAKER})))
    await bus.start()
    yield bus
    await bus.stop()


async def outcome(bus: CommandBus, command: Command) -> tuple[int, float]:
    """The error code the command got, and how long it took to get it."""
    started = time.perf_counter()
    with pytest.raises(ExchangeError) as caught:
        await bus.submit(command)
    return caught.value.code, time.perf_counter() - started


@pytest.fixture
async def full(bus: CommandBus, redis: Redis, key_prefix: str) -> AsyncIterator[CommandBus]:
    """The bus with its queue past the limit: orders queued concurrently, as clients would."""
    waiting = [asyncio.create_task(outcome(bus, order())) for _ in range(DEPTH + 1)]
    while await redis.xlen(Keys(key_prefix).orders) < DEPTH + 1:
        await asyncio.sleep(0.001)
    yield bus
    assert {code for code, _ in await asyncio.gather(*waiting)} == {Code.TIMEOUT}


async def test_new_orders_queue_up_to_the_limit_then_are_shed(
    full: CommandBus, redis: Redis, key_prefix: str
) -> None:
    assert await redis.xlen(Keys(key_prefix).orders) == DEPTH + 1

    with pytest.raises(ExchangeError) as caught:
        await full.submit(order())

    error = caught.value
    assert (error.http_status, error.code, error.msg) == (503, Code.SERVER_BUSY, OVERLOADED_MSG)
    assert await redis.xlen(Keys(key_prefix).orders) == DEPTH + 1


async def test_a_shed_order_is_answered_at_once(full: CommandBus) -> None:
    code, seconds = await outcome(full, order())

    assert code == Code.SERVER_BUSY
    assert seconds < ACK_TIMEOUT_MS / 1000 / 2


@pytest.mark.parametrize(
    "command",
    [
        order(reduce_only=True),
        order(account=MAKER),
        CancelOrder(TRADER, "BTCUSDT", OrderId(5), None, 1),
    ],
    ids=["reduce-only order", "market maker's order", "cancel"],
)
async def test_exempt_commands_still_queue_when_the_queue_is_deep(
    full: CommandBus, redis: Redis, key_prefix: str, command: Command
) -> None:
    code, _ = await outcome(full, command)

    assert code == Code.TIMEOUT  # queued, and no engine to answer
    assert await redis.xlen(Keys(key_prefix).orders) == DEPTH + 2


async def test_the_bus_tells_its_observer_how_long_each_command_waited_and_how_it_ended(
    full: CommandBus, redis: Redis, key_prefix: str
) -> None:
    seen: list[tuple[float, BaseException | None]] = []
    keys = Keys(key_prefix)
    shedding = Shedding(DEPTH, frozenset())
    observed = CommandBus(
        redis, keys, ACK_TIMEOUT_MS, shedding, lambda s, error: seen.append((s, error))
    )
    await observed.start()
    try:
        with pytest.raises(ExchangeError):
            await observed.submit(order())
        with pytest.raises(ExchangeError):
            await observed.submit(order(reduce_only=True))
    finally:
        await observed.stop()

    [(shed_s, shed), (late_s, late)] = seen
    assert isinstance(shed, ExchangeError) and shed.code == Code.SERVER_BUSY
    assert isinstance(late, ExchangeError) and late.code == Code.TIMEOUT
    assert shed_s < ACK_TIMEOUT_MS / 1000 <= late_s


async def test_without_shedding_every_order_queues(redis: Redis, key_prefix: str) -> None:
    bus = CommandBus(redis, Keys(key_prefix), ACK_TIMEOUT_MS)
    await bus.start()
    try:
        codes = await asyncio.gather(*(outcome(bus, order()) for _ in range(DEPTH + 3)))
    finally:
        await bus.stop()

    assert {code for code, _ in codes} == {Code.TIMEOUT}
    assert await redis.xlen(Keys(key_prefix).orders) == DEPTH + 3


async def test_a_command_that_cannot_be_encoded_leaves_no_reply_waiting(bus: CommandBus) -> None:
    """An id past 64 bits (which the params refuse first) must not leak a pending reply per call."""
    too_big = CancelOrder(TRADER, "BTCUSDT", OrderId(2**64), None, 1)

    for _ in range(3):
        with pytest.raises(TypeError):
            await bus.submit(too_big)

    assert not bus._pending
