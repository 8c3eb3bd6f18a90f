"""A run with a known outage, written as a run directory and read back: a 2 s Redis outage at
10.0 s of a 30 s run, orders refused while it lasts, then held until the exchange answers again
at `BACK_AT`, 1.2 s after it ended, then fast. An order and a query every tenth of a second."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from loadtests.metrics import Metrics, Outcome, SeriesKey, record_request
from loadtests.moments import Moments
from loadtests.profiles import RequestClass, parse_profile
from loadtests.results import (
    AppliedEvent,
    RunResult,
    append_moments,
    finish_run,
    read_run,
    start_run,
)

ORIGIN = 1_760_000_000.0
OUTAGE_AT = 10.0
BACK_AT = 13.2
"""When the exchange answers again: the outage (2 s) ended at 12.0."""

PROFILE = """
name: outage-drill
description: A 2 s Redis outage between two calm phases.
baseline: {orders: 10, queries: 10, market_data: 1}
phases:
  - {name: before, duration_s: 10, multipliers: {orders: 1, queries: 1, market_data: 1}}
  - name: waterfall
    duration_s: 10
    multipliers: {orders: 1, queries: 1, market_data: 1}
    events: [{type: redis_outage, seconds: 2}]
  - {name: after, duration_s: 10, multipliers: {orders: 1, queries: 1, market_data: 1}}
"""


def refused_then_held(intended: float, back_at: float | None) -> tuple[Outcome, float]:
    """How the drill's exchange answers a request intended at `intended` (run seconds)."""
    if intended < OUTAGE_AT:
        return Outcome.SUCCESS, intended + 0.02
    if intended < OUTAGE_AT + 2:
        return Outcome.UNAVAILABLE_503, intended + 0.005
    if back_at is None:
        return Outcome.TIMEOUT_408, intended + 2.0
    return Outcome.SUCCESS, max(intended, back_at) + 0.02 * (intended >= back_at)


def drill(
    directory: Path,
    back_at: float | None = BACK_AT,
    events: Sequence[AppliedEvent] = (),
    answer: Callable[[float, float | None], tuple[Outcome, float]] = refused_then_held,
) -> RunResult:
    """The drill's run directory, read back: every tenth of a second an order and a query."""
    profile = parse_profile(PROFILE)
    timeline = profile.timeline()
    metrics, moments = Metrics(), Moments()
    for tenth in range(300):
        intended = tenth / 10
        window = timeline.window_at(intended)
        assert window is not None
        for klass in (RequestClass.ORDERS, RequestClass.QUERIES):
            outcome, done = answer(intended, back_at)
            key = SeriesKey(window.index, window.name, klass.value)
            record_request(
                metrics.tally(key), outcome, intended=ORIGIN + intended,
                sent=ORIGIN + intended, done=ORIGIN + done,
            )  # fmt: skip
            moments.record(klass.value, outcome, intended_s=intended, done_s=done)
    start_run(directory, profile, {"api_workers": 1})
    finish_run(directory, metrics, timeline, origin=ORIGIN, events=events)
    # As two generators report them: each tenth in two rows, added up when read back.
    drained = moments.drain()
    for share in (lambda n: n // 2, lambda n: n - n // 2):
        append_moments(
            directory,
            [m.model_copy(update={"counts": {k: share(n) for k, n in m.counts.items()}})
             for m in drained],
        )  # fmt: skip
    run = read_run(directory)
    assert run.moments == tuple(drained)
    return run
