"""The rate limits the exchange publishes in exchangeInfo, declared once so the limiter enforces
exactly the table clients are told about."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LimitType(StrEnum):
    REQUEST_WEIGHT = "REQUEST_WEIGHT"
    """Counted per IP, in request weight."""
    ORDERS = "ORDERS"
    """Counted per account, in orders placed."""


class Interval(StrEnum):
    SECOND = "SECOND"
    MINUTE = "MINUTE"

    @property
    def millis(self) -> int:
        return 1_000 if self is Interval.SECOND else 60_000


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A fixed window of `interval_num` × `interval` that admits at most `limit`."""

    type: LimitType
    interval: Interval
    interval_num: int
    limit: int

    @property
    def window_ms(self) -> int:
        return self.interval.millis * self.interval_num


RATE_LIMITS: tuple[RateLimit, ...] = (
    RateLimit(LimitType.REQUEST_WEIGHT, Interval.MINUTE, 1, 2_400),
    RateLimit(LimitType.ORDERS, Interval.MINUTE, 1, 1_200),
    RateLimit(LimitType.ORDERS, Interval.SECOND, 10, 300),
)
"""Binance USDⓈ-M's published limits (REQUEST_WEIGHT per IP, ORDERS per account)."""
