"""The command bus's ack timing and the engine's counts, through the real hooks."""

from __future__ import annotations

import pytest

from exchange_mock.errors import Code, ExchangeError
from exchange_mock.telemetry.hooks import ack_observed, engine_applied
from tests.telemetry.metrics import sample

ACK = "stampede_exchange_order_ack_duration_seconds_count"


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (None, "replied"),
        (ExchangeError(Code.TIMEOUT, "late", http_status=408), "timeout"),
        (ExchangeError(Code.SERVER_BUSY, "busy"), "shed"),
        (ConnectionError("redis gone"), "failed"),
    ],
)
def test_each_command_is_timed_under_how_it_ended(error: Exception | None, outcome: str) -> None:
    before = sample(ACK, outcome=outcome)
    ack_observed(0.01, error)
    assert sample(ACK, outcome=outcome) == before + 1


def test_the_engine_counts_commands_and_events() -> None:
    commands = sample("stampede_exchange_engine_commands_total")
    events = sample("stampede_exchange_engine_events_total")
    engine_applied(3, 7)
    assert sample("stampede_exchange_engine_commands_total") == commands + 3
    assert sample("stampede_exchange_engine_events_total") == events + 7
