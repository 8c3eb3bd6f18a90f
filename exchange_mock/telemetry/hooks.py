"""The calls the pipeline's own code makes to be measured, one line each where they sit (the
command bus, the engine's runner), so that code reads as it did and the counting lives here."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from exchange_mock.domain.commands import Command
from exchange_mock.domain.replies import Reply
from exchange_mock.errors import Code, ExchangeError
from exchange_mock.telemetry.registry import AckOutcome, bus_metrics, engine_metrics

Bus = TypeVar("Bus")

_OUTCOME_OF_CODE = {Code.TIMEOUT: AckOutcome.TIMEOUT, Code.SERVER_BUSY: AckOutcome.SHED}


def timed_ack(
    submit: Callable[[Bus, Command], Awaitable[Reply]],
) -> Callable[[Bus, Command], Awaitable[Reply]]:
    """Decorates the bus's `submit`: how long each command waited for the engine, and how that
    ended (`AckOutcome`). Under a surge this is where order timeouts begin."""

    @functools.wraps(submit)
    async def timed(bus: Bus, command: Command) -> Reply:
        started = time.perf_counter()
        outcome = AckOutcome.FAILED
        try:
            reply = await submit(bus, command)
            outcome = AckOutcome.REPLIED
            return reply
        except ExchangeError as error:
            outcome = _OUTCOME_OF_CODE.get(error.code, AckOutcome.FAILED)
            raise
        finally:
            histogram = bus_metrics().order_ack_duration.labels(outcome.value)
            histogram.observe(time.perf_counter() - started)

    return timed


def engine_applied(commands: int, events: int) -> None:
    """The engine applied a batch of `commands` and journaled the `events` they made."""
    metrics = engine_metrics()
    metrics.commands.inc(commands)
    metrics.events.inc(events)
