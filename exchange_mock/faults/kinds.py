"""The fault kinds, as data: what each one does, its unit, and the values it accepts.

Every fault is one number; 0 means "off", so clearing a fault and setting it to 0 are the same
thing, and a process that knows nothing of a fault behaves as if it were 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum
from typing import Protocol


class FaultKind(StrEnum):
    UNAVAILABLE_PCT = "unavailable_pct"
    """Percent of Binance API requests answered 503 "Service Unavailable." before they run:
    an order refused this way is not executed."""
    UNKNOWN_ERROR_PCT = "unknown_error_pct"
    """Percent of successful Binance API requests answered 503 "Unknown error, please check
    your request or try again later." after they ran: an order answered this way IS executed."""
    API_DELAY_MS = "api_delay_ms"
    """Added to every Binance API request before it is handled (a slow gateway)."""
    ENGINE_DELAY_MS = "engine_delay_ms"
    """Extra time per engine batch: acks slow down until orders time out with -1007."""
    ENGINE_PAUSED = "engine_paused"
    """1 stops the engine taking commands: the orders queue grows and orders time out with
    -1007, then execute once it resumes."""
    PROJECTOR_DELAY_MS = "projector_delay_ms"
    """Extra time per projector round: the read model falls behind, reads go stale."""
    PROJECTOR_EVENT_DELAY_US = "projector_event_delay_us"
    """Extra time per journal event projected: the projector keeps up only below
    1 / delay events per second."""
    PROJECTOR_PAUSED = "projector_paused"
    """1 stops the projector: reads serve the read model as it was."""
    STALE_READS_MS = "stale_reads_ms"
    """Positions and balances are served from a copy of each account that each API process
    refreshes at most this often, as a cache or a lagging replica would serve them."""
    REDIS_READ_DELAY_MS = "redis_read_delay_ms"
    """Added to every Redis round trip that only reads (GET, HGETALL, XREAD, ...)."""
    REDIS_WRITE_DELAY_MS = "redis_write_delay_ms"
    """Added to every Redis round trip that writes (SET, MULTI, scripts, PUBLISH, ...)."""
    REDIS_APPEND_DELAY_MS = "redis_append_delay_ms"
    """Added to every Redis round trip that appends to a stream (XADD: orders, journal)."""
    FEED_DELAY_MS = "feed_delay_ms"
    """Extra delay before feed messages are pushed."""


SWITCHES = frozenset({FaultKind.ENGINE_PAUSED, FaultKind.PROJECTOR_PAUSED})
"""Kinds that are on (1) or off (0)."""
PERCENTAGES = frozenset({FaultKind.UNAVAILABLE_PCT, FaultKind.UNKNOWN_ERROR_PCT})


def check(kind: FaultKind, value: float) -> float:
    """`value` if `kind` accepts it; ValueError otherwise."""
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{kind}: {value} is not a finite number ≥ 0")
    if kind in SWITCHES and value not in (0, 1):
        raise ValueError(f"{kind}: 1 switches it on, 0 off, not {value}")
    if kind in PERCENTAGES and value > 100:
        raise ValueError(f"{kind}: {value} is more than 100 percent")
    return value


class FaultReader(Protocol):
    """Where a component reads the faults in force: synchronously, without I/O, on hot paths."""

    def value(self, kind: FaultKind) -> float:
        """The fault's value; 0 when it is off."""
        ...


class FixedFaults:
    """Faults that never change: none by default, for components run without a fault board."""

    def __init__(self, faults: Mapping[FaultKind, float] | None = None) -> None:
        self._faults = dict(faults or {})

    def value(self, kind: FaultKind) -> float:
        return self._faults.get(kind, 0.0)


NO_FAULTS = FixedFaults()


class OutageKind(StrEnum):
    """Outages an operator rehearses (`POST /stampede/admin/outage`): events, not levels, so
    they are not on the fault board; each ends on its own and the exchange recovers by itself."""

    REDIS_OUTAGE = "redis_outage"
    """Redis drops every client and refuses new ones for `seconds` (`redis_outage.py`)."""
    REDIS_RESTART = "redis_restart"
    """The embedded Redis shuts down, stays down `seconds`, and starts again on its port from
    its append-only file (`redis_restart.py`)."""
    ROLE_CRASH = "role_crash"
    """The process running `role` (engine or projector) is killed (SIGKILL) and started again by
    its supervisor (`role_crash.py`)."""


CRASHABLE_ROLES = frozenset({"engine", "projector"})
"""The roles a `role_crash` may name."""
