"""`stampede compare RUN_A RUN_B`: what moved between two runs.

The usual question is "did the change help?": two API workers instead of one, a faster
projector, a new limit. So the comparison lines up what the capacity report concludes for
each run (capacity, knee, where each SLO begins to break, the audit) and every step's p99s,
and says which way each moved. Both runs are judged by the same thresholds, so a moved
begins-at is the system's doing, not a changed SLO file.

Where an SLO breaks is compared by load multiple when both runs are ramps (their ladders may
differ); by step order when both ran the same phases; otherwise it is only shown.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from pydantic import JsonValue

from loadtests.profiles import RequestClass
from loadtests.report.capacity import CapacityPlan
from loadtests.report.model import Report, SloVerdict, percentile
from loadtests.report.tables import Table
from loadtests.report.units import change, millis, multiple, rate

SAME_WITHIN = 0.10
"""Relative moves smaller than this are called the same: two runs of one set-up differ by about
this much at p99, more so at low steps, where a p99 rests on a few requests."""
NONE = "—"


class Verdict(StrEnum):
    BETTER = "better"
    WORSE = "worse"
    SAME = "same"
    UNJUDGED = ""
    """Not comparable, or nothing to judge (a setting, a limit's name)."""


@dataclass(frozen=True, slots=True)
class Movement:
    what: str
    before: str
    after: str
    change: str
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class Comparison:
    before: str
    after: str
    settings: tuple[Movement, ...]
    """Only the settings that differ: what the two runs changed."""
    conclusions: tuple[Movement, ...]
    latency: tuple[Movement, ...]

    def tables(self) -> list[Table]:
        title = f"{self.before} → {self.after}"
        found = []
        if self.settings:
            found.append(_table(f"Settings changed: {title}", self.settings))
        found.append(_table(f"What moved: {title}", self.conclusions))
        found.append(_table("Corrected p99 per step", self.latency))
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
        latency=_latency(before, after),
    )


def _table(title: str, rows: tuple[Movement, ...]) -> Table:
    return Table(
        title,
        ("", "before", "after", "change", "verdict"),
        tuple((m.what, m.before, m.after, m.change, m.verdict.value) for m in rows),
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
        return str(settings[key]) if key in settings else NONE

    keys = sorted(set(before.settings) | set(after.settings))
    moved = [
        Movement(key, shown(before.settings, key), shown(after.settings, key), "", Verdict.UNJUDGED)
        for key in keys
        if before.settings.get(key) != after.settings.get(key)
    ]
    if before.profile.name != after.profile.name:
        moved.insert(
            0,
            Movement("profile", before.profile.name, after.profile.name, "", Verdict.UNJUDGED),
        )
    return tuple(moved)


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
    return Movement(what, *shown, moved, Verdict.BETTER if second > first else Verdict.WORSE)


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


def _latency(before: Report, after: Report) -> tuple[Movement, ...]:
    """Corrected p99 per class at every step both runs share, by step name."""
    shared = [step for step in before.steps if step.name in {s.name for s in after.steps}]
    later = {step.name: step.index for step in after.steps}
    return tuple(
        _number(
            f"{klass.value.replace('_', ' ')} at {step.label}",
            percentile(before.classes[klass][step.index].corrected_ms, "p99"),
            percentile(after.classes[klass][later[step.name]].corrected_ms, "p99"),
            millis,
            higher_is_better=False,
        )
        for step in shared
        for klass in RequestClass
    )
