"""The exchange's wall clock in milliseconds, injected wherever a time is stamped (auth windows,
command stamps, stream event times) so those rules are testable to the millisecond."""

from __future__ import annotations

import time
from collections.abc import Callable

from exchange_mock.types import Millis

Clock = Callable[[], Millis]


def wall_clock() -> Millis:
    return time.time_ns() // 1_000_000
