"""The headline: the report's answers in sentences, worded once for every renderer.

Each SLO verdict says where the objective broke (its interval wholly beyond the threshold),
else where it was inconclusive (the load generator was the limit) or borderline, else that it
held. The other lines give the knee, the capacity against the surge, any scale-out fit, the
bottleneck and the conservation audit.

The bottleneck line prefers the exchange's own evidence; without it, it gives the client-side
heuristic and says what it rests on. Where a latency SLO broke and nothing points at a
component, the line says what was seen rather than "none". Where the load machine came near
saturation, the first line cautions that the measurements there include its own lag.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from loadtests.profiles import RequestClass
from loadtests.report.bottleneck import ExchangeEvidence
from loadtests.report.capacity import CapacityPlan, Surge
from loadtests.report.knee import KneeStatus, Saturation
from loadtests.report.recovery import Recovery, headline_line
from loadtests.report.schema import Bottleneck, SloVerdict
from loadtests.report.slo import Bound, Judgement, SloResult, SloThresholds
from loadtests.report.step_words import StepWords
from loadtests.report.units import (
    cpu,
    estimate_text,
    listed,
    measure,
    millis,
    multiple,
    num,
    rate,
    span,
)
from loadtests.results import ConservationAudit


class _Wording(NamedTuple):
    subject: str
    verb: str
    klass: RequestClass | None
    """The class whose load locates a breach; None: the whole load."""


_WORDING = {
    "order_latency_p99_ms": _Wording("Order latency SLO", "broken", RequestClass.ORDERS),
    "query_latency_p99_ms": _Wording("Query latency SLO", "broken", RequestClass.QUERIES),
    "timeout_rate": _Wording("Timeouts", "begin", None),
    "stale_read_rate": _Wording("Stale reads", "begin", RequestClass.QUERIES),
    "stale_age_p99_ms": _Wording("Stale-read age SLO", "broken", RequestClass.QUERIES),
    "rate_limited_rate": _Wording("Rate limiting", "begins", None),
    "feed_lag_p99_ms": _Wording("Feed lag SLO", "broken", None),
    "feed_completeness": _Wording("Feed completeness SLO", "broken", None),
    "depth_lag_p99_ms": _Wording("Depth stream lag SLO", "broken", None),
    "depth_gap_rate": _Wording("Depth stream gaps", "begin", None),
    "error_rate": _Wording("Errors", "begin", None),
}
HEADLINE_SLOS = (
    "timeout_rate",
    "stale_read_rate",
    "rate_limited_rate",
    "order_latency_p99_ms",
    "feed_lag_p99_ms",
    "depth_gap_rate",
    "depth_lag_p99_ms",
)
"""The objectives the headline always names, broken or not; the rest are in the SLO table."""
LATENCY_SLOS = ("order_latency_p99_ms", "query_latency_p99_ms", "timeout_rate")
"""The objectives of waiting: while one breaks, the bottleneck line says what was seen."""


def slo_verdict(
    words: StepWords,
    result: SloResult,
    thresholds: SloThresholds,
    runs_begin_at: tuple[int | None, ...] = (),
) -> SloVerdict:
    """One objective's result over the run, with the sentence that words it."""
    objective = result.objective
    breach = result.breach
    return SloVerdict(
        metric=objective.metric,
        label=objective.label,
        unit=objective.unit,
        bound=objective.bound,
        threshold=result.threshold,
        begins_at=None if breach is None else breach.step.index,
        value=None if breach is None else breach.value.value,
        worst=result.worst,
        line=_verdict_line(words, result, thresholds) + _agreement(words, runs_begin_at),
        judgements=result.judgements,
        estimates=result.estimates,
        runs_begin_at=runs_begin_at,
    )


def _agreement(words: StepWords, runs_begin_at: Sequence[int | None]) -> str:
    """Where the runs of a set, each alone, found an objective beginning, and how many agree:
    "; each run alone: 50× in 2 of 3, 20× in 1 of 3"; nothing for one run."""
    if not runs_begin_at:
        return ""
    total = len(runs_begin_at)
    found = Counter(runs_begin_at).most_common()
    places = ", ".join(
        f"{'not reached' if index is None else words.steps[index].label} in {count} of {total}"
        for index, count in found
    )
    return f"; each run alone: {places}"


def _verdict_line(words: StepWords, result: SloResult, thresholds: SloThresholds) -> str:
    """The objective in a sentence: where it broke, else where it was inconclusive or
    borderline, else that it held, with any earlier step that kept it from a plain answer."""
    objective = result.objective
    wording = _WORDING[objective.metric]
    if objective.metric == "stale_read_rate":
        tolerance = millis(thresholds.stale_tolerance_ms)
        wording = wording._replace(subject=f"{wording.subject} (older than {tolerance})")
    slo = f"the {measure(result.threshold, objective.unit)} SLO"
    inconclusive = result.first(Judgement.INCONCLUSIVE)
    borderline = result.first(Judgement.BORDERLINE)
    breach = result.breach
    if breach is not None:
        over = "over" if objective.bound is Bound.CEILING else "under"
        value = breach.value
        line = (
            f"{wording.subject} {wording.verb} {words.at(breach.step.index, wording.klass)}: "
            f"{estimate_text(value.value, value.low, value.high, objective.unit)}, {over} {slo}"
        )
        if inconclusive is not None:
            line += f"; inconclusive earlier, {words.where(inconclusive)}"
        elif borderline is not None:
            line += f"; borderline earlier, {_borderline(words, result, borderline)}"
        return line
    if inconclusive is not None:
        return (
            f"{wording.subject} inconclusive {words.at(inconclusive, wording.klass)}: "
            f"{words.generator_limit(inconclusive)}"
        )
    if borderline is not None:
        unjudged = _too_few_above(words, result, borderline)
        elsewhere = f"where judged{unjudged}" if unjudged else words.highest()
        return (
            f"{wording.subject}: borderline {_borderline(words, result, borderline)}, "
            f"around {slo}; not broken {elsewhere}"
        )
    if not result.measured:
        return f"{wording.subject}: not measured in this run"
    if Judgement.HOLDS not in result.judgements:
        return f"{wording.subject}: too few samples to judge {words.highest()}"
    return f"{wording.subject}: not reached {_as_far_as_judged(words, result)}"


def _as_far_as_judged(words: StepWords, result: SloResult) -> str:
    """Where an objective that never broke was shown to hold: every step, or up to the
    highest load it held at, naming the heavier steps too few samples could not judge (a
    phase whose probes fell silent is no evidence that it held)."""
    held = [i for i, judged in enumerate(result.judgements) if judged is Judgement.HOLDS]
    top = max(held, key=lambda i: words.steps[i].multiple)
    unjudged = _too_few_above(words, result, top)
    return f"{words.up_to(top)}{unjudged}" if unjudged else words.highest()


def _too_few_above(words: StepWords, result: SloResult, index: int) -> str:
    """ "; too few samples to judge in peak-minute (17 samples)": the steps heavier than
    `index` that too few samples could judge; nothing when there are none."""
    unjudged = [
        i
        for i, judged in enumerate(result.judgements)
        if judged is Judgement.TOO_FEW and words.steps[i].multiple > words.steps[index].multiple
    ]
    if not unjudged:
        return ""
    samples = sorted(estimate.samples for i in unjudged if (estimate := result.estimates[i]))
    fewest, most = num(samples[0]), num(samples[-1])
    counts = f" ({fewest} samples)" if fewest == most else f" ({fewest}-{most} samples)"
    return f"; too few samples to judge {words.among(unjudged)}{counts}"


def _borderline(words: StepWords, result: SloResult, index: int) -> str:
    """ "in waterfall: 0.7-1.6%": the step and its interval."""
    estimate = result.estimates[index]
    assert estimate is not None  # a borderline step measured it
    return f"{words.where(index)}: {span(estimate.low, estimate.high, result.objective.unit)}"


def headline(
    words: StepWords,
    verdicts: Sequence[SloVerdict],
    recovered: Sequence[Recovery],
    saturation: Saturation | None,
    capacity: CapacityPlan | None,
    surge: Surge,
    bottlenecks: Sequence[Bottleneck],
    evidence: ExchangeEvidence | None,
    audit: ConservationAudit | None,
) -> tuple[str, ...]:
    """The report's answers, one line each, in the order a reader asks them."""
    verdict_of = {verdict.metric: verdict for verdict in verdicts}
    return (
        *_load_machine_line(words),
        *(verdict_of[metric].line for metric in HEADLINE_SLOS),
        *(headline_line(recovery) for recovery in recovered),
        _knee_line(words, saturation),
        _capacity_line(words, capacity, verdict_of, surge),
        *_scale_out_line(capacity),
        _bottleneck_line(bottlenecks, evidence, verdicts),
        _audit_line(audit),
    )


def interrupted_line(finished: int, planned: int) -> str:
    """The first line of a set's report when Ctrl-C stopped the set short of its runs."""
    covers = "the one" if finished == 1 else f"the {finished}"
    return (
        f"The set was interrupted after {finished} of {planned} runs: this report covers "
        f"{covers} that finished; the run Ctrl-C stopped is kept beside them, not judged"
    )


def _knee_line(words: StepWords, saturation: Saturation | None) -> str:
    if saturation is None:
        if words.ramp:
            return "Saturation knee: not sought, as the load generator was the limit at every step"
        return "Saturation knee: not sought, as the load does not rise step by step"
    return _knee_found(words, saturation) + _left_out(words, saturation.left_out)


def _knee_found(words: StepWords, saturation: Saturation) -> str:
    knee = saturation.knee
    if knee is not None:
        return (
            f"Saturation knee {words.at(knee.step)}: {rate(knee.achieved)} served; past it, "
            f"at most {rate(saturation.plateau.achieved)}"
        )
    judged = len(words.steps) - len(saturation.left_out)
    if saturation.status is KneeStatus.TOO_FEW_STEPS:
        return f"Saturation knee: {judged} steps are too few to find one"
    behind = saturation.falls_behind
    if behind is None and saturation.left_out:
        top = max(i for i in range(len(words.steps)) if i not in saturation.left_out)
        return (
            f"Saturation knee: not reached up to {words.steps[top].label} (the highest step "
            "judged); every step judged was served"
        )
    if behind is None:
        return f"Saturation knee: not reached {words.highest()}; every step was served"
    return (
        f"Saturation knee: no clear bend, but the exchange fell behind {words.at(behind.step)}"
        f" ({rate(behind.achieved)} served)"
    )


def _left_out(words: StepWords, left_out: Sequence[int]) -> str:
    if not left_out:
        return ""
    labels = [words.steps[index].label for index in left_out]
    return f"; left out {listed(labels)}, where the load generator was the limit"


def _capacity_line(
    words: StepWords,
    plan: CapacityPlan | None,
    verdicts: dict[str, SloVerdict],
    surge: Surge,
) -> str:
    if plan is None and words.ramp:
        return (
            "Capacity: not estimated, as the load generator was the limit at every step; run "
            "the load from more cores or machines"
        )
    if plan is None:
        return "Capacity: not estimated from this profile; a step ramp measures it"
    needs = (
        f"a {multiple(surge.order_multiple)}-orders / {multiple(surge.query_multiple)}-queries "
        f"surge needs {rate(plan.surge_rate)}"
    )
    limiting = plan.limiting_slo
    if plan.sustainable_rate == 0 and limiting is not None:
        return (
            f"Capacity: no tested step met every SLO ({limiting.label} broke at the first); {needs}"
        )
    held = "holds at least" if plan.lower_bound else "holds"
    began = None if limiting is None else verdicts[limiting.metric].begins_at
    capped = (
        ""
        if limiting is None or began is None
        else f", capped by {limiting.label} from {multiple(words.steps[began].multiple)}"
    )
    verdict = (
        f"within capacity, with {multiple(plan.headroom)} headroom"
        if plan.holds
        else f"{multiple(1 / plan.headroom)} what it holds"
    )
    return (
        f"Capacity: {held} {multiple(plan.sustainable_multiple)} baseline "
        f"({rate(plan.sustainable_rate)}{capped}); {needs}, {verdict}"
    )


def _scale_out_line(plan: CapacityPlan | None) -> tuple[str, ...]:
    """The scale-out verdict as a headline line; none without a fit."""
    if plan is None or plan.scale_out is None:
        return ()
    scale_out = plan.scale_out
    counts = ", ".join(str(count) for count in scale_out.fit.workers_measured)
    return (f"Scale-out (USL over {counts} API workers): {scale_out.verdict.removesuffix('.')}",)


def _load_machine_line(words: StepWords) -> tuple[str, ...]:
    """The caution where the load generator was the limit (its machine near saturation, or
    behind with free senders), naming the first such step (and its figures, or the highest
    over several); none when it never was or was not sampled."""
    busy = [step for step in words.steps if step.generator_bound]
    if not busy:
        return ()
    first = busy[0]
    later = len(busy) - 1
    noun = "step" if words.ramp else "phase"
    also = f" and {later} later {noun}{'s' if later > 1 else ''}" if later else ""
    up_to = "up to " if later else ""
    measured = (
        ("host CPU", [step.host_cpu for step in busy]),
        ("load generator", [step.generator_cpu for step in busy]),
    )
    figures = [
        f"{what} {up_to}{cpu(max(seen))}"
        for what, values in measured
        if (seen := [value for value in values if value is not None])
    ]
    behind = max((step.behind_free_s or 0.0 for step in busy), default=0.0)
    if behind:
        figures.append(f"{up_to}{millis(behind * 1000)} behind with free senders")
    return (
        f"Load generator was the limit {words.at(first.index)}{also}: {', '.join(figures)}; "
        "latency and timeouts there are inconclusive, the load machine's own lag as much as "
        "the venue's; run the load from more cores or machines (--processes, distributed "
        "workers)",
    )


def _bottleneck_line(
    bottlenecks: Sequence[Bottleneck],
    evidence: ExchangeEvidence | None,
    verdicts: Sequence[SloVerdict],
) -> str:
    """The exchange's own evidence when it was sampled, else the symptoms' heuristic, saying
    what it rests on; never "none" while a latency SLO broke."""
    broke = [v for v in verdicts if v.metric in LATENCY_SLOS and v.broken]
    broken = "; ".join(verdict.line for verdict in broke)
    if evidence is not None:
        if evidence.findings:
            first, *later = evidence.findings
            then = f" (then {', '.join(f.component for f in later)})" if later else ""
            return f"Bottleneck (measured on the exchange): {first.line}{then}"
        if broke:
            return (
                f"Bottleneck: not the exchange, which kept up ({evidence.seen}), though {broken}: "
                "the time went elsewhere (the load generator, the network, the clients)"
            )
        return f"Bottleneck: none reached; the exchange kept up ({evidence.seen})"
    rests = "from client-side symptoms"
    if bottlenecks:
        top = bottlenecks[0]
        return f"Likely bottleneck (heuristic, {rests}): {top.component} — {top.evidence}"
    if broke:
        return f"Likely bottleneck: no client-side symptom points at a component, though {broken}"
    return f"Likely bottleneck (heuristic, {rests}): none indicated by this run"


def _audit_line(audit: ConservationAudit | None) -> str:
    if audit is None:
        return "Conservation audit: not recorded (the run has no audit.json)"
    if audit.passed:
        return "Conservation audit: PASS"
    failed = [
        what
        for what, held in (
            ("cash not conserved", audit.cash_conserved),
            ("positions unbalanced", audit.positions_balanced),
            ("taken while not quiet", audit.quiet),
        )
        if not held
    ]
    return f"Conservation audit: FAIL ({'; '.join(failed) or 'as the exchange reported'})"
