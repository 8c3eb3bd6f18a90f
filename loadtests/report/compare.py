"""`stampede compare RUN_A RUN_B`: what moved between two runs.

The usual question is "did the change help?": two API workers instead of one, a faster
projector, a new limit. So the comparison lines up what the capacity report concludes for
each run (capacity, knee, where each SLO begins to break, the audit) and every step's p99s,
and says which way each moved. Both runs are judged by the same thresholds, so a moved
begins-at is the system's doing, not a changed SLO file.

Two runs of one set-up never measure the same p99: a step's p99 rests on a few hundred requests
and moves by tens of percent from run to run. So a value the SLOs judge is better or worse only
when the two runs' 95% intervals separate, and a moved begins-at only when, at the step where
one run broke, the intervals separate; otherwise the line says "within noise" and shows both
intervals. Figures without an interval (capacity, knee, most served) move by whole steps or
by more than `SAME_WITHIN` to count. Settings a reader did not choose (ports, the origin
timestamp, the run directory, the accounts file's path) are not changes.

Where an SLO breaks is compared by load multiple when both runs are ramps (their ladders may
differ); by step order when both ran the same phases; otherwise it is only shown. Recoveries
from outages the runs rehearsed are compared outage by outage (`compare_recovery.py`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import JsonValue

from loadtests.report.capacity import CapacityPlan
from loadtests.report.compare_recovery import RECOVERY_TITLE, compare_recoveries
from loadtests.report.intervals import Estimate
from loadtests.report.movement import Movement, Verdict, movement_table, separate
from loadtests.report.run_settings import setting
from loadtests.report.schema import Report, SloVerdict
from loadtests.report.slo import Bound
from loadtests.report.tables import Table
from loadtests.report.units import change, estimate_text, multiple, rate

SAME_WITHIN = 0.10
"""Relative moves of a figure without an interval smaller than this are within noise."""
INCIDENTAL = frozenset({"origin", "run_dir", "accounts_file"})
"""Settings every run records differently: when it started, where it wrote, where it read its
accounts from."""
PORT = re.compile(r"(://[^/:]+):\d+")
NONE = "—"


@dataclass(frozen=True, slots=True)
class Comparison:
    before: str
    after: str
    settings: tuple[Movement, ...]
    """Only the settings that differ: what the two runs changed."""
    conclusions: tuple[Movement, ...]
    values: tuple[Movement, ...]
    """Every value an SLO judges, at every step both runs share, with its interval."""
    recoveries: tuple[Movement, ...] = ()
    """How each outage's recovery moved, for runs that rehearsed any (`compare_recovery.py`)."""

    def tables(self) -> list[Table]:
        title = f"{self.before} → {self.after}"
        found = []
        if self.settings:
            found.append(movement_table(f"Settings changed: {title}", self.settings))
        found.append(movement_table(f"What moved: {title}", self.conclusions))
        if self.recoveries:
            found.append(movement_table(RECOVERY_TITLE, self.recoveries))
        found.append(movement_table("SLO values per step (95% intervals)", self.values))
        return found

    def markdown(self) -> str:
        return "\n".join(table.markdown() for table in self.tables())


def compare(before: Report, after: Report) -> Comparison:
    """What moved from the run `before` to the run `after`."""
    return Comparison(
        before=before.run,
        after=after.run,
        settings=_settings(before, after),
        conclusions=(
            *_capacity(before, after),
            *(_begins(before, after, verdict.metric) for verdict in before.verdicts),
            _audit(before, after),
        ),
        values=_values(before, after),
        recoveries=compare_recoveries(before, after),
    )


def _number(
    what: str,
    before: float | None,
    after: float | None,
    fmt: Callable[[float], str],
    *,
    higher_is_better: bool,
) -> Movement:
    shown = (NONE if before is None else fmt(before), NONE if after is None else fmt(after))
    if before is None or after is None:
        return Movement(what, *shown, "", Verdict.UNJUDGED)
    return Movement(what, *shown, change(before, after), _judge(before, after, higher_is_better))


def _judge(before: float, after: float, higher_is_better: bool) -> Verdict:
    scale = max(abs(before), abs(after))
    if scale == 0 or abs(after - before) / scale < SAME_WITHIN:
        return Verdict.SAME
    return Verdict.BETTER if (after > before) == higher_is_better else Verdict.WORSE


def _text(what: str, before: str, after: str) -> Movement:
    return Movement(what, before, after, "", Verdict.SAME if before == after else Verdict.UNJUDGED)


def _settings(before: Report, after: Report) -> tuple[Movement, ...]:
    def shown(settings: dict[str, JsonValue], key: str) -> str:
        return setting(key, settings[key]) if key in settings else NONE

    keys = sorted((set(before.settings) | set(after.settings)) - INCIDENTAL)
    moved = [
        Movement(key, shown(before.settings, key), shown(after.settings, key), "", Verdict.UNJUDGED)
        for key in keys
        if _chosen(before.settings.get(key)) != _chosen(after.settings.get(key))
    ]
    if before.profile.name != after.profile.name:
        moved.insert(
            0,
            Movement("profile", before.profile.name, after.profile.name, "", Verdict.UNJUDGED),
        )
    return tuple(moved)


def _chosen(value: JsonValue) -> JsonValue:
    """A setting as the reader chose it: a URL without its port, which a run picks free."""
    return PORT.sub(r"\1", value) if isinstance(value, str) else value


def _capacity(before: Report, after: Report) -> list[Movement]:
    return [
        _number(
            "capacity",
            _sustainable(before),
            _sustainable(after),
            multiple,
            higher_is_better=True,
        ),
        _text("capacity set by", _limit(before.capacity), _limit(after.capacity)),
        _number("saturation knee", _knee(before), _knee(after), multiple, higher_is_better=True),
        _number("most served", _ceiling(before), _ceiling(after), rate, higher_is_better=True),
    ]


def _sustainable(report: Report) -> float | None:
    return None if report.capacity is None else report.capacity.sustainable_multiple


def _ceiling(report: Report) -> float | None:
    return None if report.capacity is None else report.capacity.ceiling_rate


def _knee(report: Report) -> float | None:
    knee = None if report.saturation is None else report.saturation.knee
    return None if knee is None else report.steps[knee.step].multiple


def _limit(plan: CapacityPlan | None) -> str:
    if plan is None:
        return NONE
    return plan.limiting_slo.label if plan.limiting_slo is not None else plan.limit.value


def _begins(before: Report, after: Report, metric: str) -> Movement:
    """Where one SLO begins to break in each run: later is better, never is best."""
    verdicts = before.verdict(metric), after.verdict(metric)
    shown = _where(before, verdicts[0]), _where(after, verdicts[1])
    what = f"{verdicts[0].label} breaks at"
    if not all(verdict.measured for verdict in verdicts):
        return Movement(what, *shown, "", Verdict.UNJUDGED)
    keys = _onset_keys(before, after, verdicts)
    if keys is None:
        return Movement(what, *shown, "", Verdict.UNJUDGED)
    first, second = keys
    if first == second:
        return Movement(what, *shown, "", Verdict.SAME)
    moved = "later" if second > first else "earlier"
    at = _where_first_broke((before, after), verdicts, 0 if first < second else 1)
    if at is None:
        return Movement(what, *shown, moved, Verdict.UNJUDGED)
    step, estimates = at
    unit = verdicts[0].unit
    told = f"{moved}; at {step}: {_interval(estimates[0], unit)} → {_interval(estimates[1], unit)}"
    if not separate(*estimates):
        return Movement(what, *shown, told, Verdict.SAME)
    return Movement(what, *shown, told, Verdict.BETTER if second > first else Verdict.WORSE)


def _where_first_broke(
    reports: tuple[Report, Report], verdicts: tuple[SloVerdict, SloVerdict], earlier: int
) -> tuple[str, tuple[Estimate, Estimate]] | None:
    """The step where the run that broke `earlier` (0: before, 1: after) broke, and both runs'
    values there; None when either has no value at it."""
    index = verdicts[earlier].begins_at
    assert index is not None  # the earlier of two different onsets is a step, not never
    other = _counterpart(reports[earlier], index, reports[1 - earlier])
    if other is None:
        return None
    indices = (index, other) if earlier == 0 else (other, index)
    pair = _estimate(verdicts[0], indices[0]), _estimate(verdicts[1], indices[1])
    if pair[0] is None or pair[1] is None:
        return None
    return reports[earlier].steps[index].label, (pair[0], pair[1])


def _counterpart(report: Report, index: int, other: Report) -> int | None:
    """The step of `other` that lines up with `report`'s `index`-th: at the same multiple on
    ramps, of the same name otherwise."""
    step = report.steps[index]
    if report.ramp and other.ramp:
        return next((s.index for s in other.steps if s.multiple == step.multiple), None)
    return next((s.index for s in other.steps if s.name == step.name), None)


def _estimate(verdict: SloVerdict, index: int) -> Estimate | None:
    return verdict.estimates[index] if index < len(verdict.estimates) else None


def _interval(estimate: Estimate, unit: str) -> str:
    return estimate_text(estimate.value, estimate.low, estimate.high, unit)


def _where(report: Report, verdict: SloVerdict) -> str:
    if verdict.begins_at is None:
        return "not reached" if verdict.measured else "not measured"
    return report.steps[verdict.begins_at].label


def _onset_keys(
    before: Report, after: Report, verdicts: tuple[SloVerdict, SloVerdict]
) -> tuple[float, float] | None:
    """Comparable positions of the two onsets (infinity for never), or None when the runs'
    steps do not line up."""
    by_multiple = before.ramp and after.ramp
    if not by_multiple and [s.name for s in before.steps] != [s.name for s in after.steps]:
        return None

    def position(report: Report, verdict: SloVerdict) -> float:
        if verdict.begins_at is None:
            return math.inf
        return report.steps[verdict.begins_at].multiple if by_multiple else verdict.begins_at

    return position(before, verdicts[0]), position(after, verdicts[1])


def _audit(before: Report, after: Report) -> Movement:
    """The conservation audit: a pass turning into a failure is worse, whatever else moved."""
    shown = _audit_result(before), _audit_result(after)
    passes = [None if report.audit is None else report.audit.passed for report in (before, after)]
    if shown[0] == shown[1]:
        verdict = Verdict.SAME
    elif None in passes:
        verdict = Verdict.UNJUDGED
    else:
        verdict = Verdict.BETTER if passes[1] else Verdict.WORSE
    return Movement("conservation audit", *shown, "", verdict)


def _audit_result(report: Report) -> str:
    if report.audit is None:
        return "not recorded"
    return "PASS" if report.audit.passed else "FAIL"


def _values(before: Report, after: Report) -> tuple[Movement, ...]:
    """Every SLO's value at every step both runs share, with both intervals: better or worse
    only where they separate."""
    rows = []
    for verdict in before.verdicts:
        other = after.verdict(verdict.metric)
        for step in before.steps:
            index = _counterpart(before, step.index, after)
            if index is None:
                continue
            pair = _estimate(verdict, step.index), _estimate(other, index)
            if pair[0] is None or pair[1] is None:
                continue
            rows.append(_value(f"{verdict.label} at {step.label}", verdict, pair[0], pair[1]))
    return tuple(rows)


def _value(what: str, verdict: SloVerdict, before: Estimate, after: Estimate) -> Movement:
    shown = _interval(before, verdict.unit), _interval(after, verdict.unit)
    moved = change(before.value, after.value)
    if not separate(before, after):
        return Movement(what, *shown, moved, Verdict.SAME)
    higher_is_better = verdict.bound is Bound.FLOOR
    better = (after.value > before.value) == higher_is_better
    return Movement(what, *shown, moved, Verdict.BETTER if better else Verdict.WORSE)
