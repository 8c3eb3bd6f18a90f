"""What the pipeline's own code reports to be measured: the command bus's acknowledgement
observer (which the node injects) and the engine runner's counts, so that code reads as it did
and the counting lives here."""

from __future__ import annotations

from exchange_mock.errors import Code, ExchangeError
from exchange_mock.telemetry.registry import AckOutcome, bus_metrics, engine_metrics

_OUTCOME_OF_CODE = {Code.TIMEOUT: AckOutcome.TIMEOUT, Code.SERVER_BUSY: AckOutcome.SHED}


def ack_observed(seconds: float, error: BaseException | None) -> None:
    """The command bus's acknowledgement observer: how long a command waited for the engine,
    under how that ended (`AckOutcome`). Under a surge this is where order timeouts begin."""
    if error is None:
        outcome = AckOutcome.REPLIED
    elif isinstance(error, ExchangeError):
        outcome = _OUTCOME_OF_CODE.get(error.code, AckOutcome.FAILED)
    else:
        outcome = AckOutcome.FAILED
    bus_metrics().order_ack_duration.labels(outcome.value).observe(seconds)


def engine_applied(commands: int, events: int) -> None:
    """The engine applied a batch of `commands` and journaled the `events` they made."""
    metrics = engine_metrics()
    metrics.commands.inc(commands)
    metrics.events.inc(events)
