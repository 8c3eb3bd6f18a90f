"""The per-step series the SLOs judge, and which outcomes each counts.

Every request counts against at most one failure objective: timeouts (any deadline), rate
limiting, or errors (the rest), so the shares and the served rate add up to each request once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from loadtests.metrics import Outcome
from loadtests.profiles import RequestClass
from loadtests.report.intervals import Estimate
from loadtests.report.samples import StepSamples
from loadtests.report.slo import SloThresholds
from loadtests.results import StepSummary

RATE_LIMITED = (Outcome.RATE_LIMITED_429, Outcome.BANNED_418)
WAITED_OUT = (Outcome.EXPIRED_1021, Outcome.CLIENT_TIMEOUT)
"""Timeouts that are not the engine's: past the recvWindow on the way in (-1021), or past the
client's patience (no answer)."""
TIMED_OUT = (Outcome.TIMEOUT_408, *WAITED_OUT)
"""What `timeout_rate` counts: requests that ran out of time by any deadline, the engine's ack
(408 / -1007) included."""
UNAVAILABLE = (Outcome.UNAVAILABLE_503, Outcome.UNAVAILABLE_503_UNKNOWN)
ERRORS = (*UNAVAILABLE, Outcome.THROTTLED_1008, Outcome.CONNECTION_ERROR, Outcome.OTHER)
"""What `error_rate` counts: failures that are neither timeouts nor rate limiting, so no
request counts against two objectives."""


def outcome_share(rows: Sequence[StepSummary], outcomes: Sequence[Outcome]) -> float | None:
    """The share of `rows`' requests that ended in one of `outcomes`; None without requests."""
    requests = sum(row.requests for row in rows)
    if not requests:
        return None
    return sum(row.outcomes[outcome] for row in rows for outcome in outcomes) / requests


def slo_estimates(
    samples: Sequence[StepSamples], thresholds: SloThresholds
) -> dict[str, tuple[Estimate | None, ...]]:
    """Every objective's value per step, with its 95% interval."""
    judged: dict[str, Callable[[StepSamples], Estimate | None]] = {
        "order_latency_p99_ms": lambda step: step.p99_ms(RequestClass.ORDERS),
        "query_latency_p99_ms": lambda step: step.p99_ms(RequestClass.QUERIES),
        "timeout_rate": lambda step: step.share(TIMED_OUT),
        "stale_read_rate": lambda step: step.stale_beyond(thresholds.stale_tolerance_ms),
        "stale_age_p99_ms": StepSamples.stale_age_p99_ms,
        "rate_limited_rate": lambda step: step.share(RATE_LIMITED),
        "feed_lag_p99_ms": StepSamples.feed_lag_p99_ms,
        "feed_completeness": StepSamples.feed_completeness,
        "depth_lag_p99_ms": StepSamples.depth_lag_p99_ms,
        "depth_gap_rate": StepSamples.depth_gap_rate,
        "error_rate": lambda step: step.share(ERRORS),
    }
    return {metric: tuple(map(value, samples)) for metric, value in judged.items()}
