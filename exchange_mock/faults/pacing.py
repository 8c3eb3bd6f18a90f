"""How a pipeline loop (the engine's, the projector's) obeys its faults: a pause, a delay per
batch, and a delay per item in the batch.

The loop is slowed or stopped where it does its real work, so the queue in front of it grows
exactly as it would in front of a slow or stalled process, and everything downstream (acks,
timeouts, read lag) follows from that queue.
"""

from __future__ import annotations

import asyncio

from exchange_mock.faults.kinds import FaultKind, FaultReader

SLICE_S = 0.01
"""How often a paused or delayed loop looks at its faults again: switching one off takes
effect within a slice, even in the middle of a long delay."""


class LoopFaults:
    """The faults one loop obeys: the kind that pauses it, and those that delay its batches."""

    def __init__(
        self,
        faults: FaultReader,
        paused: FaultKind,
        batch_delay_ms: FaultKind,
        item_delay_us: FaultKind | None = None,
    ) -> None:
        self._faults = faults
        self._paused = paused
        self._batch_delay_ms = batch_delay_ms
        self._item_delay_us = item_delay_us

    async def ready(self, stop: asyncio.Event, items: int) -> bool:
        """Wait out a pause, then the delay a batch of `items` gets, before it is processed.

        A pause holds a batch already read, too: once paused, nothing more is processed. False
        when stopped while paused: the batch is left for the next start.
        """
        while self._faults.value(self._paused) > 0:
            if stop.is_set():
                return False
            await asyncio.sleep(SLICE_S)
        # The share of the batch's delay spent so far: when the fault changes meanwhile, the
        # rest of the batch takes the rest of the new delay.
        spent = 0.0
        while spent < 1 and not stop.is_set():
            delay_s = self._delay_s(items)
            if delay_s <= 0:
                break
            step_s = min(SLICE_S, (1 - spent) * delay_s)
            await asyncio.sleep(step_s)
            spent += step_s / delay_s
        return True

    def _delay_s(self, items: int) -> float:
        delay_s = self._faults.value(self._batch_delay_ms) / 1_000
        if self._item_delay_us is not None:
            delay_s += items * self._faults.value(self._item_delay_us) / 1_000_000
        return delay_s
