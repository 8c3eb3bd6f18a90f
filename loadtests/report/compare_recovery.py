"""How two runs came back from the same outages: for each, the time until orders succeeded
again after it ended, until order latency held its SLO again, and what failed meanwhile by
outcome, run A → run B (each as `recovery.py` measures it).

Outages are matched by kind and the phase they began in, the n-th of a kind in a phase with the
other run's n-th, whatever each lasted; one in only one run is listed as such.

A recovery time is one measurement, with no sample to draw an interval from, so it is judged by
its resolution instead: orders intended in the tenth of a second they were first disrupted in do
not count as recovered (`MOMENT_S`), and the exchange's return shows only when the next order is
sent (`Recovery.order_gap_s`, the time between orders meanwhile). Each run's recovery time is
late by less than their sum, so two move beyond noise only when they differ by more than the
larger sum. When latency held again is known by whole seconds (`HELD_WINDOW_S`), so only a move
of more than one counts. The exchange's own run-to-run variation is not in either band: several
runs rehearsing the outage show it. Failed counts are counts of events, each with its Poisson
score interval, and move only when the intervals separate, as compare's other values do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from loadtests.metrics import OUTCOME_LABELS, Outcome
from loadtests.moments import MOMENT_S
from loadtests.report.intervals import Estimate, poisson
from loadtests.report.movement import Movement, Verdict, separate
from loadtests.report.recovery import HELD_WINDOW_S, Recovery, to_tenth
from loadtests.report.schema import Report
from loadtests.report.units import change, millis, num

RECOVERY_TITLE = "Outages and recovery (one measurement each: moved only beyond its resolution)"
TOLERANCE_S = 1e-9
"""Float noise in differences of run seconds: a move exactly the resolution is within it."""

Key = tuple[str, str, int]
"""An outage as two runs share it: its phase, its kind, and which of that kind there it is."""


def compare_recoveries(before: Report, after: Report) -> tuple[Movement, ...]:
    """Every outage of either run, in run A's order then those only run B rehearsed."""
    runs = before.run, after.run
    return tuple(
        row
        for pair in _matched(before.recoveries, after.recoveries)
        for row in _outage(*pair, runs)
    )


def _matched(
    before: Sequence[Recovery], after: Sequence[Recovery]
) -> list[tuple[Recovery | None, Recovery | None]]:
    later = dict(_keyed(after))
    pairs: list[tuple[Recovery | None, Recovery | None]] = [
        (recovery, later.pop(key, None)) for key, recovery in _keyed(before)
    ]
    pairs.extend((None, recovery) for recovery in later.values())
    return pairs


def _keyed(found: Sequence[Recovery]) -> list[tuple[Key, Recovery]]:
    seen: Counter[tuple[str, str]] = Counter()
    keyed = []
    for recovery in found:
        # A report.json from before kinds were kept names the outage only.
        kind = recovery.step, recovery.kind or recovery.outage
        keyed.append(((*kind, seen[kind]), recovery))
        seen[kind] += 1
    return keyed


def _outage(
    before: Recovery | None, after: Recovery | None, runs: tuple[str, str]
) -> list[Movement]:
    present = [r for r in (before, after) if r is not None]
    # Two outages of one kind may have lasted differently: "2 s Redis outage → 5 s Redis outage".
    names = dict.fromkeys(r.outage.removeprefix("the ") for r in present)
    where = f"{' → '.join(names)} in {present[0].step}"
    shown = _state(before), _state(after)
    if before is None or after is None:
        return [Movement(where, *shown, f"only in {runs[before is None]}", Verdict.UNJUDGED)]
    if before.not_rehearsed is not None or after.not_rehearsed is not None:
        same = before.not_rehearsed is not None and after.not_rehearsed is not None
        return [Movement(where, *shown, "", Verdict.SAME if same else Verdict.UNJUDGED)]
    return [
        _recovered(where, before, after),
        _latency_held(where, before, after),
        *_failed(where, before, after),
    ]


def _state(recovery: Recovery | None) -> str:
    if recovery is None:
        return "not in this run"
    if recovery.not_rehearsed is not None:
        return f"not rehearsed ({recovery.not_rehearsed})"
    return f"recovered in {_recovery_text(recovery)}"


def _recovery_text(recovery: Recovery) -> str:
    if recovery.disrupted_s is None:
        return "0 s (nothing disrupted)"
    return "never" if recovery.recovery_s is None else to_tenth(recovery.recovery_s)


def _recovered(where: str, before: Recovery, after: Recovery) -> Movement:
    """Seconds from the outage's end until an order succeeded again; recovering beats not."""
    what = f"{where}: recovered in"
    shown = _recovery_text(before), _recovery_text(after)
    times = before.recovery_s, after.recovery_s
    if times[0] is None or times[1] is None:
        if times[0] is None and times[1] is None:
            return Movement(what, *shown, "", Verdict.SAME)
        return Movement(what, *shown, "", Verdict.WORSE if times[1] is None else Verdict.BETTER)
    gaps = (r.order_gap_s or 0.0 for r in (before, after))
    return _timed(what, shown, (times[0], times[1]), MOMENT_S + max(gaps))


def _latency_held(where: str, before: Recovery, after: Recovery) -> Movement:
    """Seconds from the outage's beginning until order latency held its SLO again."""
    what = f"{where}: order latency within {millis(before.latency_ceiling_ms)} again"

    def since(recovery: Recovery) -> float:
        held = recovery.latency_held_s
        return 0.0 if held is None else held - recovery.began_s

    def text(recovery: Recovery) -> str:
        if recovery.latency_held_s is None:
            return "held throughout"
        return f"{to_tenth(since(recovery))} after it began"

    shown = text(before), text(after)
    return _timed(what, shown, (since(before), since(after)), HELD_WINDOW_S)


def _timed(
    what: str, shown: tuple[str, str], times: tuple[float, float], resolution_s: float
) -> Movement:
    """Later is worse, earlier better: beyond `resolution_s` only."""
    moved = times[1] - times[0]
    told = f"{moved:+.1f} s (resolution ±{resolution_s:.2g} s)"
    if abs(moved) <= resolution_s + TOLERANCE_S:
        return Movement(what, *shown, told, Verdict.SAME)
    return Movement(what, *shown, told, Verdict.WORSE if moved > 0 else Verdict.BETTER)


def _failed(where: str, before: Recovery, after: Recovery) -> list[Movement]:
    """Each outcome either run failed requests with meanwhile: fewer is better."""
    what = f"{where}: failed meanwhile"
    outcomes = list(dict.fromkeys((*before.failed, *after.failed)))
    if not outcomes:
        return [Movement(what, "none", "none", "", Verdict.SAME)]
    return [_count(f"{what}, {OUTCOME_LABELS[o]}", before, after, o) for o in outcomes]


def _count(what: str, before: Recovery, after: Recovery, outcome: Outcome) -> Movement:
    counts = before.failed.get(outcome, 0), after.failed.get(outcome, 0)
    estimates = poisson(counts[0]), poisson(counts[1])
    shown = _count_text(estimates[0]), _count_text(estimates[1])
    moved = change(*counts)
    if not separate(*estimates):
        return Movement(what, *shown, moved, Verdict.SAME)
    return Movement(what, *shown, moved, Verdict.WORSE if counts[1] > counts[0] else Verdict.BETTER)


def _count_text(estimate: Estimate) -> str:
    """ "40 (29-54)": a count with its interval."""
    assert estimate.high is not None  # a Poisson score interval always has an upper end
    return f"{num(estimate.value)} ({num(estimate.low)}-{num(estimate.high)})"
