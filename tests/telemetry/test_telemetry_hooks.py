"""The command bus's ack timing and the engine's counts, through the real decorator and hook."""

from __future__ import annotations

import asyncio

import pytest

from exchange_mock.domain.commands import CancelAllOrders, Command
from exchange_mock.domain.replies import Done, Reply
from exchange_mock.errors import Code, ExchangeError
from exchange_mock.telemetry.hooks import engine_applied, timed_ack
from tests.telemetry.metrics import sample

ACK = "stampede_exchange_order_ack_duration_seconds_count"
COMMAND = CancelAllOrders(account=1, symbol="BTCUSDT", ts=0)


class Bus:
    """Answers, or fails, as told."""

    def __init__(self, error: ExchangeError | Exception | None = None) -> None:
        self.error = error

    @timed_ack
    async def submit(self, command: Command) -> Reply:
        await asyncio.sleep(0)
        if self.error is not None:
            raise self.error
        return Done()


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (None, "replied"),
        (ExchangeError(Code.TIMEOUT, "late", http_status=408), "timeout"),
        (ExchangeError(Code.SERVER_BUSY, "busy"), "shed"),
        (ConnectionError("redis gone"), "failed"),
    ],
)
async def test_each_command_is_timed_under_how_it_ended(
    error: Exception | None, outcome: str
) -> None:
    before = sample(ACK, outcome=outcome)
    if error is None:
        assert await Bus().submit(COMMAND) == Done()
    else:
        with pytest.raises(type(error)):
            await Bus(error).submit(COMMAND)
    assert sample(ACK, outcome=outcome) == before + 1


def test_the_engine_counts_commands_and_events() -> None:
    commands = sample("stampede_exchange_engine_commands_total")
    events = sample("stampede_exchange_engine_events_total")
    engine_applied(3, 7)
    assert sample("stampede_exchange_engine_commands_total") == commands + 3
    assert sample("stampede_exchange_engine_events_total") == events + 7
