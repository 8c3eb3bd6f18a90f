"""Time to recover: for each outage a run rehearsed (a Redis outage or restart, a role's
crash), how long until orders succeeded again, until order latency held its SLO again, and
what failed meanwhile, by kind. Read from the run's moments (`loadtests/moments.py`): outcomes
by tenth of a second of intended send time.

An outage begins when the target answered the driver's request for it (when its phase starts,
in a run from before the driver's record was kept) and ends `seconds` later (at once for a
crash or an immediate restart); one the target refused or lacks the endpoint for was not
rehearsed, and says so. From its beginning:

- orders are disrupted from the first tenth of a second in which one failed for want of the
  exchange (not a rejection, which is the exchange deciding) or was slower than the order
  latency SLO's ceiling: a crashed engine restarted within the ack deadline fails nothing, it
  only holds every order until it is back; none disrupted means the outage went unnoticed;
- orders succeed again at the earliest answer to an order intended after that first disrupted
  tenth: one intended in it may have been answered before the outage took hold;
- latency holds again at the end of the last whole second, before the next outage or the end
  of the run, in which more than 1% of orders were slower than the SLO's ceiling (judged at the
  highest rung of the moments' latency ladder not above it, or the lowest); orders intended so
  close to the next outage that it could have made them that slow are not held against this
  one;
- what failed meanwhile: every request class, intended from the outage's beginning until
  orders succeeded again (the rest of the run, when they did not), by outcome.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from loadtests.metrics import OUTCOME_LABELS, Outcome
from loadtests.moments import MOMENT_S, SLOW_MS, Moment, slow_name
from loadtests.profiles import Outage, RedisOutage, RedisRestart, RequestClass, RoleCrash
from loadtests.report.tables import Table
from loadtests.report.units import millis, num, seconds
from loadtests.results import RunResult

HELD_SHARE = 0.01
"""The share of a second's orders a p99 ceiling lets be slower than it."""
HELD_WINDOW_S = 1.0
"""Latency is judged held again by whole windows this long from the outage's beginning: the
resolution of when it held."""
NOT_FAILURES = frozenset({Outcome.SUCCESS, Outcome.REJECTED})
"""Outcomes that show the exchange working."""
ORDERS = RequestClass.ORDERS.value
NONE = "—"


class Recovery(BaseModel):
    """How the exchange came back from one outage; times in run seconds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    step: str
    """The phase the outage began in."""
    outage: str
    """What happened, as the report names it: "the Redis outage", "the engine crash"."""
    kind: str = ""
    """The outage's event type, with the role a crash killed ("redis_outage", "role_crash
    engine"): what `stampede compare` matches two runs' outages by, whatever they lasted. The
    default keeps a report.json written before it readable."""
    began_s: float
    ended_s: float
    disrupted_s: float | None
    """Where orders began to fail or to be slower than the ceiling; None when none did."""
    succeeded_s: float | None
    """The first successful answer to an order intended after they were disrupted; None when
    none came before the run ended."""
    latency_held_s: float | None
    """From when order latency held its SLO again; None when it never broke."""
    latency_ceiling_ms: int
    """The ceiling judged: the SLO's, or the ladder's highest rung below it."""
    failed: dict[Outcome, int]
    """Requests of every class that failed meanwhile, by outcome, most first."""
    not_rehearsed: str | None = None
    """Why the outage did not happen (the target refused it, or has no such endpoint); None
    when it did."""
    order_gap_s: float | None = None
    """The mean time between orders intended meanwhile (over at least a second): how long
    after the exchange came back an order could be the first to show it. None without orders
    (and in a report.json written before it was kept)."""

    @property
    def recovered(self) -> bool:
        return self.disrupted_s is None or self.succeeded_s is not None

    @property
    def recovery_s(self) -> float | None:
        """Seconds from the outage's end until orders succeeded again: 0 when none failed."""
        if self.disrupted_s is None:
            return 0.0
        if self.succeeded_s is None:
            return None
        return max(0.0, self.succeeded_s - self.ended_s)


def describe_outage(event: Outage) -> str:
    """The outage as a sentence names it: "the 20 s Redis outage", "the engine crash"."""
    match event:
        case RedisOutage():
            return f"the {seconds(event.seconds)} Redis outage"
        case RedisRestart():
            down = f" (down {seconds(event.seconds)})" if event.seconds else ""
            return f"the Redis restart{down}"
        case _:
            return f"the {event.role.value} crash"


def outage_kind(event: Outage) -> str:
    """What kind of outage, whatever it lasted: its type, and for a crash the role killed."""
    return f"{event.type} {event.role.value}" if isinstance(event, RoleCrash) else event.type


def recoveries(run: RunResult, order_latency_ms: float) -> tuple[Recovery, ...]:
    """Every outage of the run in order, each judged up to the next rehearsed one's beginning."""
    outages = _outages(run)
    moments = run.moments
    last = max((m.at + MOMENT_S for m in moments), default=run.profile.timeline().duration)
    found = []
    for index, (step, began, event, refused) in enumerate(outages):
        if refused:
            found.append(_not_rehearsed(step, began, event, refused))
            continue
        later = [other[1] for other in outages[index + 1 :] if not other[3]]
        horizon = later[0] if later else max(last, began)
        # From the tenth of a second it began in: whatever the outage failed there is its own.
        within = [m for m in moments if began + 1e-9 < m.at + MOMENT_S and m.at < horizon]
        found.append(_recovery(step, began, event, within, horizon, bool(later), order_latency_ms))
    return tuple(found)


def _outages(run: RunResult) -> list[tuple[str, float, Outage, str]]:
    """Each outage event: its step, when it began, and why it was not rehearsed ("" if it
    was); from the driver's record, else from the profile's schedule."""
    if run.events is not None:
        return [
            (e.step, e.at, e.event, "" if e.applied else f"{e.status}: {e.detail}")
            for e in run.events
            if isinstance(e.event, Outage)
        ]
    return [
        (window.name, window.start, event, "")
        for window in run.profile.timeline().windows
        for event in window.phase.events
        if isinstance(event, Outage)
    ]


def _not_rehearsed(step: str, began: float, event: Outage, why: str) -> Recovery:
    return Recovery(
        step=step,
        outage=describe_outage(event),
        kind=outage_kind(event),
        began_s=began,
        ended_s=began,
        disrupted_s=None,
        succeeded_s=None,
        latency_held_s=None,
        latency_ceiling_ms=0,
        failed={},
        not_rehearsed=why,
    )


def _recovery(
    step: str,
    began: float,
    event: Outage,
    moments: Sequence[Moment],
    horizon: float,
    next_outage: bool,
    order_latency_ms: float,
) -> Recovery:
    duration = 0.0 if isinstance(event, RoleCrash) else event.seconds
    orders = [m for m in moments if m.series == ORDERS]
    rung = max((r for r in SLOW_MS if r <= order_latency_ms), default=SLOW_MS[0])
    # Orders the next outage could have made that slow are not this one's to judge.
    judged = [m for m in orders if not next_outage or m.at + MOMENT_S + rung / 1000 <= horizon]
    slow = {m.tenth for m in judged if m.counts.get(slow_name(rung), 0)}
    disrupted = next((m for m in orders if _failures(m) or m.tenth in slow), None)
    succeeded = None
    failed: dict[Outcome, int] = {}
    if disrupted is not None:
        answers = [
            m.first_success_s
            for m in orders
            if m.tenth > disrupted.tenth and m.first_success_s is not None
        ]
        succeeded = min(answers, default=None)
        until = horizon if succeeded is None else succeeded
        for moment in moments:
            if moment.at <= until:
                for outcome, n in _failures(moment).items():
                    failed[outcome] = failed.get(outcome, 0) + n
    return Recovery(
        step=step,
        outage=describe_outage(event),
        kind=outage_kind(event),
        began_s=began,
        ended_s=began + duration,
        disrupted_s=None if disrupted is None else max(began, disrupted.at),
        succeeded_s=succeeded,
        latency_held_s=_latency_held(judged, began, rung),
        latency_ceiling_ms=rung,
        failed=dict(sorted(failed.items(), key=lambda item: -item[1])),
        order_gap_s=_order_gap(orders, began, horizon if succeeded is None else succeeded, horizon),
    )


def _order_gap(orders: Sequence[Moment], began: float, seen: float, horizon: float) -> float | None:
    """The mean time between the orders intended from `began` until recovery was `seen` (a
    second at least, to count more than a few; never past `horizon`)."""
    until = min(horizon, max(seen, began + 1))
    sent = sum(m.requests for m in orders if m.at < until)
    return (until - began) / sent if sent else None


def _failures(moment: Moment) -> dict[Outcome, int]:
    return {
        outcome: moment.counts[outcome]
        for outcome in Outcome
        if outcome not in NOT_FAILURES and moment.counts.get(outcome)
    }


def _latency_held(orders: Sequence[Moment], began: float, rung_ms: int) -> float | None:
    """The end of the last whole second (from `began`) whose orders broke the ceiling."""
    per_second: dict[int, list[int]] = {}
    for moment in orders:
        window = math.floor((moment.at - began) / HELD_WINDOW_S + 1e-9)
        tally = per_second.setdefault(window, [0, 0])
        tally[0] += moment.requests
        tally[1] += moment.counts.get(slow_name(rung_ms), 0)
    broken = [second for second, (n, slow) in per_second.items() if n and slow > HELD_SHARE * n]
    return None if not broken else began + (max(broken) + 1) * HELD_WINDOW_S


def headline_line(recovery: Recovery) -> str:
    """One line per outage: "Recovered in 3.2 s after the Redis restart in waterfall: …"."""
    where = f"{recovery.outage} in {recovery.step}"
    if recovery.not_rehearsed is not None:
        return f"Not rehearsed: {where} ({recovery.not_rehearsed})."
    lasted = recovery.ended_s > recovery.began_s
    if recovery.disrupted_s is None:
        return (
            f"Recovered at once after {where}: no order failed or took longer than "
            f"{millis(recovery.latency_ceiling_ms)}."
        )
    recovery_s = recovery.recovery_s
    if recovery_s is None:
        opening = f"Did not recover after {where}: no order succeeded again before the run ended"
    elif lasted:
        since = recovery_s + recovery.ended_s - recovery.began_s
        opening = (
            f"Recovered in {to_tenth(recovery_s)} after {where} ended "
            f"({to_tenth(since)} after it began)"
        )
    else:
        opening = f"Recovered in {to_tenth(recovery_s)} after {where}"
    parts = [opening]
    if recovery.latency_held_s is not None:
        parts.append(
            f"order latency within {millis(recovery.latency_ceiling_ms)} again "
            f"{to_tenth(recovery.latency_held_s - recovery.began_s)} after it began"
        )
    parts.append(f"failed meanwhile: {failures_text(recovery.failed)}")
    return "; ".join(parts) + "."


def failures_text(failed: dict[Outcome, int]) -> str:
    """ "180 503 unavailable, 8 408 / -1007 timeout"; "none"."""
    if not failed:
        return "none"
    return ", ".join(f"{num(n)} {OUTCOME_LABELS[outcome]}" for outcome, n in failed.items())


def to_tenth(value: float) -> str:
    """Seconds to a tenth, as the moments resolve them: "3.2 s"."""
    return f"{value:.1f} s"


RECOVERY_COLUMNS = (
    "outage",
    "step",
    "began",
    "ended",
    "orders disrupted from",
    "orders succeeded again",
    "recovered in",
    "order latency held again",
    "failed meanwhile",
)


def recovery_table(found: Sequence[Recovery]) -> Table:
    """Every outage's recovery, times in run seconds and from its end."""

    def at(value: float | None) -> str:
        return NONE if value is None else f"{value:.1f} s"

    rows = tuple(
        (
            recovery.outage.removeprefix("the "),
            recovery.step,
            at(recovery.began_s),
            *((f"not rehearsed ({recovery.not_rehearsed})",) + (NONE,) * 5),
        )
        if recovery.not_rehearsed is not None
        else (
            recovery.outage.removeprefix("the "),
            recovery.step,
            at(recovery.began_s),
            at(recovery.ended_s),
            at(recovery.disrupted_s),
            at(recovery.succeeded_s),
            NONE if recovery.recovery_s is None else to_tenth(recovery.recovery_s),
            "held throughout" if recovery.latency_held_s is None else at(recovery.latency_held_s),
            failures_text(recovery.failed),
        )
        for recovery in found
    )
    return Table("Time to recover (run seconds)", RECOVERY_COLUMNS, rows)
