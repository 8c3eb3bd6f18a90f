"""Rate-limit usage, measured against the limits the target publishes.

A run records its target's exchangeInfo `rateLimits` in settings.json; where it did not, the
report assumes Binance's published limits and says so (`RateLimits.published`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict, JsonValue, TypeAdapter, ValidationError

from loadtests.metrics import ORDER_COUNT_1M, ORDER_COUNT_10S, USED_WEIGHT_1M
from loadtests.profiles import RequestClass
from loadtests.report.schema import RateLimits, by_step
from loadtests.results import ResultsError, StepSummary

BINANCE_LIMITS = {USED_WEIGHT_1M: 2400, ORDER_COUNT_10S: 300, ORDER_COUNT_1M: 1200}
"""Binance USDⓈ-M Futures' published limits, assumed when a run did not record its target's."""
_LIMIT_KEYS = {
    ("REQUEST_WEIGHT", "MINUTE", 1): USED_WEIGHT_1M,
    ("ORDERS", "SECOND", 10): ORDER_COUNT_10S,
    ("ORDERS", "MINUTE", 1): ORDER_COUNT_1M,
}
_PEAKS: dict[str, Callable[[StepSummary], int | None]] = {
    USED_WEIGHT_1M: lambda row: row.used_weight_max,
    ORDER_COUNT_10S: lambda row: row.order_count_10s_max,
    ORDER_COUNT_1M: lambda row: row.order_count_1m_max,
}


class _PublishedLimit(BaseModel):
    """One entry of a Binance exchangeInfo `rateLimits` list, as settings.json records it."""

    model_config = ConfigDict(frozen=True)

    # Binance's field names, so the list reads exactly as exchangeInfo publishes it.
    rateLimitType: str
    interval: str
    intervalNum: int
    limit: int


_PUBLISHED_LIMITS = TypeAdapter(list[_PublishedLimit])


def read_rate_limits(settings: dict[str, JsonValue]) -> RateLimits:
    """The limits the run recorded its target publishing, Binance's for any it did not."""
    try:
        published = _PUBLISHED_LIMITS.validate_python(settings.get("rate_limits", []))
    except ValidationError as exc:
        raise ResultsError(f"settings.json rate_limits: {exc}") from exc
    found = {
        _LIMIT_KEYS[key]: policy.limit
        for policy in published
        if (key := (policy.rateLimitType, policy.interval, policy.intervalNum)) in _LIMIT_KEYS
    }
    return RateLimits(limits=BINANCE_LIMITS | found, published=bool(found))


def rate_limit_usage(
    rate_limits: RateLimits, classes: dict[RequestClass, tuple[StepSummary, ...]]
) -> dict[str, tuple[float | None, ...]]:
    """Per limit and step, the highest usage any client saw as a share of the limit."""
    return {
        name: tuple(_usage(_PEAKS[name], rows, limit) for rows in by_step(classes))
        for name, limit in rate_limits.limits.items()
    }


def _usage(
    peak: Callable[[StepSummary], int | None], rows: Sequence[StepSummary], limit: int
) -> float | None:
    seen = [value for row in rows if (value := peak(row)) is not None]
    return max(seen) / limit if seen else None
