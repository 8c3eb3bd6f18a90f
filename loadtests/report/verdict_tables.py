"""The tables that show each SLO's verdict with its evidence: the value, its 95% interval and
where the interval lies, step by step; and the shape of staleness, so a reader can tell a
microsecond race with the projector from positions minutes old.
"""

from __future__ import annotations

from loadtests.report.intervals import Estimate
from loadtests.report.schema import Report, SloVerdict
from loadtests.report.slo import Bound, Judgement
from loadtests.report.tables import Table
from loadtests.report.units import estimate_text, measure, millis, share, span

NONE = "—"
MARKS = {
    Judgement.BREAKS: "breaks",
    Judgement.BORDERLINE: "borderline",
    Judgement.HOLDS: "",
    Judgement.TOO_FEW: "too few samples",
    Judgement.INCONCLUSIVE: "inconclusive: generator-bound",
    Judgement.UNMEASURED: "",
}
"""How a step's verdict is marked beside its value; holding needs no mark."""
GENERATOR_MARK = "(generator-bound)"
"""Beside a step where the load generator was the limit: its latency and timeouts are the
generator's as much as the venue's."""
SHORT_LABELS = {
    "order_latency_p99_ms": "order p99",
    "query_latency_p99_ms": "query p99",
    "timeout_rate": "timeouts",
    "stale_read_rate": "stale reads",
    "stale_age_p99_ms": "stale age p99",
    "rate_limited_rate": "rate limited",
    "feed_lag_p99_ms": "feed lag p99",
    "feed_completeness": "feed complete",
    "error_rate": "other errors",
}


def slo_table(report: Report) -> Table:
    rows = []
    for verdict in report.verdicts:
        if verdict.begins_at is not None:
            begins = report.steps[verdict.begins_at].label
        else:
            begins = "not reached" if verdict.measured else "not measured"
        there = NONE
        if verdict.begins_at is not None and verdict.estimates:
            there = _value(verdict, verdict.estimates[verdict.begins_at])
        elif verdict.value is not None:
            there = measure(verdict.value, verdict.unit)
        rows.append(
            (
                verdict.label,
                _objective(report, verdict),
                begins,
                there,
                _first_unsure(report, verdict),
                NONE if verdict.worst is None else measure(verdict.worst, verdict.unit),
            )
        )
    return Table(
        "SLO verdicts",
        ("objective", "SLO", "begins at", "there (95% interval)", "earlier, unsure", "worst"),
        tuple(rows),
    )


def steps_table(report: Report) -> Table:
    """Every step against every objective it measured: value, interval and verdict."""
    shown = [verdict for verdict in report.verdicts if verdict.measured and verdict.estimates]
    rows = []
    for step in report.steps:
        cells = [str(step.index), marked(report, step.index, step.label)]
        for verdict in shown:
            estimate = verdict.estimates[step.index]
            judgement = verdict.judgements[step.index]
            if estimate is None:
                cells.append(NONE)
            elif judgement is Judgement.TOO_FEW and estimate.high is None:
                cells.append(f"too few samples ({estimate.samples})")
            else:
                cells.append(" ".join(filter(None, (_value(verdict, estimate), MARKS[judgement]))))
        rows.append(tuple(cells))
    columns = ("#", "step", *(SHORT_LABELS.get(v.metric, v.label) for v in shown))
    return Table("Each step against each SLO (value, 95% interval, verdict)", columns, tuple(rows))


def staleness_table(report: Report) -> Table:
    """Per step, the share of probe reads stale by more than each age."""
    ages = sorted({part.age_ms for shape in report.staleness for part in shape})
    rows = []
    for step, shape in zip(report.steps, report.staleness, strict=True):
        by_age = {part.age_ms: part.estimate for part in shape}
        cells = [NONE if (found := by_age.get(age)) is None else _share(found) for age in ages]
        reads = next(iter(by_age.values())).samples if by_age else 0
        rows.append((str(step.index), marked(report, step.index, step.label), str(reads), *cells))
    columns = ("#", "step", "reads", *(_older_than(age) for age in ages))
    return Table("Reads stale by more than (share, 95% interval)", columns, tuple(rows))


def marked(report: Report, index: int, name: str) -> str:
    """A step's name in a table, marked where the load generator was the limit."""
    return f"{name} {GENERATOR_MARK}" if report.steps[index].generator_bound else name


def _objective(report: Report, verdict: SloVerdict) -> str:
    sign = "≤" if verdict.bound is Bound.CEILING else "≥"
    objective = f"{sign} {measure(verdict.threshold, verdict.unit)}"
    if verdict.metric == "stale_read_rate" and report.stale_tolerance_ms is not None:
        objective += f" older than {millis(report.stale_tolerance_ms)}"
    return objective


def _first_unsure(report: Report, verdict: SloVerdict) -> str:
    """The first step before the break (or anywhere, without one) that was borderline or
    inconclusive, with its interval."""
    end = len(verdict.judgements) if verdict.begins_at is None else verdict.begins_at
    for index in range(end):
        judgement = verdict.judgements[index]
        estimate = verdict.estimates[index]
        if judgement in (Judgement.BORDERLINE, Judgement.INCONCLUSIVE) and estimate is not None:
            where = report.steps[index].label
            return (
                f"{MARKS[judgement]} at {where}: {span(estimate.low, estimate.high, verdict.unit)}"
            )
    return NONE


def _value(verdict: SloVerdict, estimate: Estimate | None) -> str:
    if estimate is None:
        return NONE
    return estimate_text(estimate.value, estimate.low, estimate.high, verdict.unit)


def _share(estimate: Estimate) -> str:
    return f"{share(estimate.value)} ({span(estimate.low, estimate.high, 'share')})"


def _older_than(age_ms: float) -> str:
    return "stale at all" if age_ms == 0 else f"> {millis(age_ms)}"
