"""The exchange side of a surge: each phase's events (price shocks, depth withdrawal, oracle
mode, injected faults) applied when the phase starts, through the mock's operator API.

    PUT  /stampede/admin/faults  {"kind", "value"}
    POST /stampede/admin/shock   {"symbol", "pct" | "notional", "venue"?}
    PUT  /stampede/admin/depth   {"pct"}
    PUT  /stampede/admin/oracle  {"mode", "symbol"?}
    POST /stampede/admin/outage  {"kind": "redis_outage" | "redis_restart", "seconds"}
                                 {"kind": "role_crash", "role"}

A target without an operator API (a real venue's staging, or a mock without that endpoint yet)
still gets the load: an endpoint answering 404 or 405, or a refused connection, skips the event
with one warning per endpoint. Faults the run injected are cleared when it ends, so the next
run does not start against a degraded exchange. After the run, the conservation audit (when the
target has one) is read once the read model has caught up with the journal.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx
from pydantic import JsonValue

from loadtests.profiles import (
    DepthWithdrawal,
    Event,
    Fault,
    FaultKind,
    OracleMode,
    PriceShock,
    RedisOutage,
    RedisRestart,
    RoleCrash,
    Timeline,
)

log = logging.getLogger(__name__)

FAULTS = "/stampede/admin/faults"
SHOCK = "/stampede/admin/shock"
DEPTH = "/stampede/admin/depth"
ORACLE = "/stampede/admin/oracle"
OUTAGE = "/stampede/admin/outage"
AUDIT = "/stampede/audit"
TOKEN_HEADER = "X-Stampede-Admin-Token"
OPERATOR_HEADER = "X-Stampede-Operator"
"""Asks the mock for the operator's allowance: outside the rate limits, once the operator API
would admit the request (loopback, or the token)."""
ABSENT = frozenset({404, 405})
"""Statuses that mean the target has no such endpoint (rather than refusing this request)."""


class Status(StrEnum):
    APPLIED = "applied"
    SKIPPED = "skipped"
    """The target has no such endpoint."""
    FAILED = "failed"
    """The target has the endpoint and refused the request."""


@dataclass(frozen=True, slots=True)
class Applied:
    """What became of one event."""

    step: str
    event: Event
    status: Status
    detail: str = ""
    at: float = 0.0
    """Run seconds at which the target answered (or the event was skipped)."""


def operator_request(event: Event) -> tuple[str, str, dict[str, JsonValue]]:
    """The method, path and JSON body that apply `event`."""
    match event:
        case Fault():
            return "PUT", FAULTS, {"kind": event.kind.value, "value": event.value}
        case PriceShock():
            body: dict[str, JsonValue] = {"symbol": event.symbol}
            if event.pct is not None:
                body["pct"] = event.pct
            if event.notional is not None:
                body["notional"] = format(event.notional, "f")
            if event.venue is not None:
                body["venue"] = event.venue
            return "POST", SHOCK, body
        case DepthWithdrawal():
            return "PUT", DEPTH, {"pct": event.pct}
        case OracleMode():
            return "PUT", ORACLE, {"mode": event.mode.value}
        case RedisOutage() | RedisRestart():
            return "POST", OUTAGE, {"kind": event.type, "seconds": event.seconds}
        case RoleCrash():
            return "POST", OUTAGE, {"kind": event.type, "role": event.role.value}


def operator_client(host: str, token: str | None, timeout_s: float = 5.0) -> httpx.Client:
    """A client of the harness's own, which drives the operator API and samples the market:
    with the token when there is one and the operator's allowance asked for, so that neither
    the rate limits nor a ban of the load keep it from measuring. It speaks for its own
    address, never relaying one: the load's simulated clients come from 198.18.0.0/15 through
    X-Forwarded-For, and the operator API judges the client a relay names, not the relay."""
    headers = {OPERATOR_HEADER: "stampede"}
    if token:
        headers[TOKEN_HEADER] = token
    return httpx.Client(base_url=host, headers=headers, timeout=timeout_s)


class Driver:
    """Applies a timeline's events on schedule; `run` returns after the last phase's."""

    def __init__(
        self,
        http: httpx.Client,
        timeline: Timeline,
        *,
        origin: float,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._http = http
        self._timeline = timeline
        self._origin = origin
        self._clock = clock
        self._sleep = sleep
        self._absent: set[str] = set()
        self._faults: set[FaultKind] = set()
        self.history: list[Applied] = []

    def run(self) -> None:
        for window in self._timeline.windows:
            if not window.phase.events:
                continue
            delay = self._origin + window.start - self._clock()
            if delay > 0:
                self._sleep(delay)
            for event in window.phase.events:
                self.history.append(self.apply(window.name, event))

    def apply(self, step: str, event: Event) -> Applied:
        method, path, body = operator_request(event)
        applied = self._send(step, event, method, path, body)
        applied = dataclasses.replace(applied, at=self._clock() - self._origin)
        if applied.status is Status.APPLIED:
            log.info("%s: applied %s", step, _describe(event))
            if isinstance(event, Fault):
                self._faults.add(event.kind)
        return applied

    def clear_faults(self) -> list[Applied]:
        """Set every fault this run injected back to 0."""
        cleared = [self.apply("end", Fault(kind=kind, value=0)) for kind in sorted(self._faults)]
        self._faults.clear()
        return cleared

    def _send(
        self, step: str, event: Event, method: str, path: str, body: dict[str, JsonValue]
    ) -> Applied:
        if path in self._absent:
            return Applied(step, event, Status.SKIPPED, f"{path} is absent")
        try:
            response = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            return self._skip(step, event, path, f"no answer ({exc})")
        if response.status_code in ABSENT:
            return self._skip(step, event, path, f"HTTP {response.status_code}")
        if not response.is_success:
            detail = f"HTTP {response.status_code}: {response.text}"
            log.warning("%s: the target refused %s: %s", step, _describe(event), detail)
            return Applied(step, event, Status.FAILED, detail)
        return Applied(step, event, Status.APPLIED)

    def _skip(self, step: str, event: Event, path: str, why: str) -> Applied:
        if path not in self._absent:
            log.warning(
                "the target has no operator endpoint %s (%s): skipping %s and later ones like it",
                path,
                why,
                _describe(event),
            )
            self._absent.add(path)
        return Applied(step, event, Status.SKIPPED, why)


def _describe(event: Event) -> str:
    return f"{event.type} {event.model_dump(exclude={'type'}, exclude_none=True, mode='json')}"


def fetch_audit(
    http: httpx.Client,
    *,
    wait_s: float = 5.0,
    interval_s: float = 0.1,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any] | None:
    """The target's conservation audit once it reports `quiet` (or the last one read within
    `wait_s`); None when the target has no audit."""
    deadline = clock() + wait_s
    while True:
        try:
            response = http.get(AUDIT)
        except httpx.HTTPError as exc:
            log.warning("no conservation audit: %s", exc)
            return None
        if response.status_code != 200:
            if response.status_code not in ABSENT:
                log.warning("no conservation audit: HTTP %s", response.status_code)
            return None
        audit: dict[str, Any] = response.json()
        if audit.get("quiet") or clock() >= deadline:
            return audit
        sleep(interval_s)
