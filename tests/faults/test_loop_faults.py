"""How the engine's and the projector's loops obey a pause and their delays."""

from __future__ import annotations

import asyncio
import time

from exchange_mock.faults.kinds import FaultKind
from exchange_mock.faults.pacing import LoopFaults
from tests.faults.fakes import SetFaults


def loop_faults(faults: SetFaults) -> LoopFaults:
    return LoopFaults(
        faults,
        FaultKind.PROJECTOR_PAUSED,
        FaultKind.PROJECTOR_DELAY_MS,
        FaultKind.PROJECTOR_EVENT_DELAY_US,
    )


async def test_a_batch_goes_ahead_at_once_without_faults(faults: SetFaults) -> None:
    started = time.perf_counter()

    assert await loop_faults(faults).ready(asyncio.Event(), 1_000)

    assert time.perf_counter() - started < 0.05


async def test_a_batch_waits_its_delay_per_batch_plus_per_item(faults: SetFaults) -> None:
    faults.faults |= {FaultKind.PROJECTOR_DELAY_MS: 30, FaultKind.PROJECTOR_EVENT_DELAY_US: 500}
    started = time.perf_counter()

    assert await loop_faults(faults).ready(asyncio.Event(), 100)

    assert 0.08 <= time.perf_counter() - started < 0.3


async def test_a_paused_loop_holds_its_batch_until_resumed(faults: SetFaults) -> None:
    faults.faults[FaultKind.PROJECTOR_PAUSED] = 1
    waiting = asyncio.create_task(loop_faults(faults).ready(asyncio.Event(), 1))
    await asyncio.sleep(0.1)
    assert not waiting.done()

    faults.faults.clear()

    assert await asyncio.wait_for(waiting, 0.5)


async def test_stopped_while_paused_leaves_the_batch(faults: SetFaults) -> None:
    faults.faults[FaultKind.PROJECTOR_PAUSED] = 1
    stop = asyncio.Event()
    waiting = asyncio.create_task(loop_faults(faults).ready(stop, 1))
    await asyncio.sleep(0.05)

    stop.set()

    assert await asyncio.wait_for(waiting, 0.5) is False


async def test_a_long_delay_never_holds_up_a_stop(faults: SetFaults) -> None:
    faults.faults[FaultKind.PROJECTOR_DELAY_MS] = 60_000
    stop = asyncio.Event()
    waiting = asyncio.create_task(loop_faults(faults).ready(stop, 1))
    await asyncio.sleep(0.05)

    stop.set()

    assert await asyncio.wait_for(waiting, 0.5)


async def test_switching_a_delay_off_ends_it_mid_batch(faults: SetFaults) -> None:
    faults.faults[FaultKind.PROJECTOR_EVENT_DELAY_US] = 100_000
    waiting = asyncio.create_task(loop_faults(faults).ready(asyncio.Event(), 1_000))
    await asyncio.sleep(0.05)

    faults.faults.clear()

    assert await asyncio.wait_for(waiting, 0.5)


async def test_changing_a_delay_mid_batch_applies_to_the_rest(faults: SetFaults) -> None:
    faults.faults[FaultKind.PROJECTOR_DELAY_MS] = 1_000
    started = time.perf_counter()
    waiting = asyncio.create_task(loop_faults(faults).ready(asyncio.Event(), 1))
    await asyncio.sleep(0.1)

    faults.faults[FaultKind.PROJECTOR_DELAY_MS] = 200  # 90 % of it is left: 180 ms more

    await waiting
    assert 0.25 <= time.perf_counter() - started < 0.6
