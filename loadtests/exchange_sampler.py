"""The exchange's own state, once a second, appended to the run's exchange.jsonl: the commands
queued in front of the engine, the journal's head against the projector's sequence, and each of
its processes' roles, CPU, requests in flight and shed and Redis round trips.

Clients see symptoms (timeouts, stale reads, 503s); these are the causes, and they let the
report name the component that held the load back with the numbers that show it. They come
from the mock's operator snapshot (`GET /stampede/admin/status`, one cheap read of Redis), which
answers loopback peers, or any with the operator token (`--admin-token`). A target without it is
asked once: the report then says its bottleneck is read from the clients' symptoms alone.

Samples are taken on the run seconds the market's are (`sampler.every_run_second`), in a
greenlet of their own, so a slow answer here costs neither the market's samples nor the load
machine's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx

from loadtests.driver import ABSENT
from loadtests.results import ExchangeSample, ProcessSample

log = logging.getLogger(__name__)

STATUS = "/stampede/admin/status"
REFUSED = frozenset({401, 403})
"""The operator API refusing this client: not loopback, or without the right token."""


class ExchangeSampler:
    """Takes the exchange's samples through `http` (an operator client), writing each."""

    def __init__(self, http: httpx.Client, write: Callable[[ExchangeSample], None]) -> None:
        self._http = http
        self._write = write
        self.absent = False
        """Set once the target showed it has no snapshot to give: it is not asked again."""

    def take(self, at: float) -> None:
        """Sample run second `at` and write it, unless the target has nothing to give."""
        if self.absent:
            return
        sample = self.sample(at)
        if sample is not None:
            self._write(sample)

    def sample(self, at: float) -> ExchangeSample | None:
        """The exchange's state at run second `at`, read now; None when it gave none."""
        try:
            response = self._http.get(STATUS)
        except httpx.HTTPError:
            return None
        if response.status_code in ABSENT | REFUSED:
            self.absent = True
            if response.status_code in REFUSED:
                log.warning(
                    "the operator API refused the exchange's snapshot (%s): give --admin-token",
                    response.text,
                )
            else:
                log.info("the target has no operator snapshot; the bottleneck is read from "
                         "the clients' symptoms")  # fmt: skip
            return None
        if response.status_code != 200:
            return None
        return snapshot(at, response.json())


def snapshot(at: float, body: Any) -> ExchangeSample | None:
    """A sample from the operator snapshot's answer; None when it lacks the pipeline's state."""
    try:
        return ExchangeSample(
            at=at,
            orders_queued=body["orders_queued"],
            journal_head=body["journal_head"],
            projected_seq=body["projected_seq"],
            projector_lag_ms=body["projector_lag_ms"],
            processes=tuple(ProcessSample.model_validate(p) for p in body.get("processes", ())),
            redis_cpu_s=body.get("redis_cpu_s"),
        )
    except (KeyError, TypeError, ValueError):
        return None
