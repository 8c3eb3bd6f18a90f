"""Build the capacity report from a run directory's files alone.

`build_report` turns what `loadtests.results` wrote into the numbers the report math judges
(the SLO series, offered and served rates per step), runs the math (saturation knee, SLO
verdicts, capacity plan, rate-limit usage, bottleneck) and has the headline worded once.

Given runs of a step ramp at other API worker counts, the report fits the Universal Scalability
Law through every run's sustainable rate (each measured as this run's is) and sizes the surge in
workers; the runs are recorded with it, so the fit can be checked against what was measured.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from loadtests.depthwatch import DEPTH
from loadtests.feedwatch import FEED
from loadtests.report.bottleneck import exchange_evidence
from loadtests.report.capacity import OCTOBER_2025, Surge, fit_scale_out, plan_capacity
from loadtests.report.headline import headline, interrupted_line, slo_verdict
from loadtests.report.judging import judge_runs
from loadtests.report.knee import Saturation
from loadtests.report.load_axis import load_axis, step_row
from loadtests.report.rate_limits import rate_limit_usage, read_rate_limits
from loadtests.report.recovery import recoveries
from loadtests.report.samples import step_samples
from loadtests.report.schema import Report, ScalePoint
from loadtests.report.series import slo_estimates
from loadtests.report.slo import SloThresholds
from loadtests.report.step_words import StepWords
from loadtests.report.symptoms import likely_bottlenecks
from loadtests.report.usl import UslFit
from loadtests.results import RunResult, read_run
from loadtests.run_set import is_run_set, planned_runs, read_set


def load_report(
    directory: Path,
    slo: Path | None = None,
    *,
    surge: Surge = OCTOBER_2025,
    scale_out: Sequence[Path] = (),
) -> Report:
    """The report of the run in `directory` (or of the set of runs there, pooled), judged by
    the shipped SLOs with `slo` laid over; `scale_out` names runs of a step ramp at other API
    worker counts to size the surge in workers with."""
    runs = read_set(directory) if is_run_set(directory) else (read_run(directory),)
    first, *repeats = runs
    report = build_report(
        first,
        SloThresholds.load(slo),
        surge=surge,
        scale_out=[read_run(other) for other in scale_out],
        repeats=repeats,
    )
    planned = planned_runs(directory)
    if planned is not None and planned > len(runs):
        return report.model_copy(
            update={
                "run": directory.name,
                "runs_planned": planned,
                "headline": (interrupted_line(len(runs), planned), *report.headline),
            }
        )
    return report.model_copy(update={"run": directory.name}) if repeats else report


def build_report(
    run: RunResult,
    thresholds: SloThresholds,
    *,
    surge: Surge = OCTOBER_2025,
    scale_out: Sequence[RunResult] = (),
    repeats: Sequence[RunResult] = (),
) -> Report:
    """Judge a run read back from its directory against `thresholds`, and size it for `surge`,
    in API workers too when `scale_out` holds runs at other worker counts.

    `repeats` are further runs of the same profile: the SLO verdicts pool every run's samples,
    and say where each run alone found each objective beginning; the load, latency and feed
    tables are the first run's.

    Raises `ResultsError` when steps.jsonl lacks a request class's row for a step: a run that
    finished writes one for every step, measured or not. Raises `ValueError`, naming the run,
    when a run to fit has no api_workers in settings.json, is not a step ramp or had the load
    generator as its limit at every step, when two ran
    at one worker count, or when fewer than three counts are given.
    """
    baseline, classes, steps, ramp, saturation = load_axis(run)
    feed = tuple(step_row(run.steps, FEED, index) for index in range(len(steps)))
    depth = tuple(step_row(run.steps, DEPTH, index) for index in range(len(steps)))
    scale_out_runs: tuple[ScalePoint, ...] = ()
    usl = None
    if scale_out:
        others = [(other, load_axis(other).saturation) for other in scale_out]
        scale_out_runs, usl = _scale_out([(run, saturation), *others])
    judged = judge_runs(
        thresholds,
        lambda samples: slo_estimates(samples, thresholds),
        [step_samples(one) for one in (run, *repeats)],
        [
            [step.generator_bound for step in loads]
            for loads in (steps, *(load_axis(other).steps for other in repeats))
        ],
        [s.multiple for s in steps],
        [s.offered_rate for s in steps],
    )
    evaluation = judged.evaluation
    metrics = {
        metric: tuple(None if value is None else value.value for value in values)
        for metric, values in judged.estimates.items()
    }
    words = StepWords(steps, classes, ramp)
    verdicts = tuple(
        slo_verdict(words, result, thresholds, judged.runs_begin_at(index))
        for index, result in enumerate(evaluation.results)
    )
    capacity = None
    if saturation is not None:
        capacity = plan_capacity(saturation, baseline, surge=surge, slos=evaluation, usl=usl)
        capacity = dataclasses.replace(
            capacity, assumptions=(*capacity.assumptions, *_REPORT_ASSUMPTIONS)
        )
    rate_limits = read_rate_limits(run.settings)
    verdict_of = {verdict.metric: verdict for verdict in verdicts}
    bottlenecks = likely_bottlenecks(words, classes, metrics, verdict_of, thresholds)
    timeline = run.profile.timeline()
    evidence = exchange_evidence(run.exchange, timeline, lambda index: steps[index].label)
    recovered = recoveries(run, thresholds.order_latency_p99_ms)
    return Report(
        run=run.directory.name,
        runs=tuple(one.directory.name for one in (run, *repeats)) if repeats else (),
        profile=run.profile,
        settings=run.settings,
        ramp=ramp,
        steps=steps,
        classes=classes,
        feed=feed,
        depth=depth,
        metrics=metrics,
        staleness=tuple(step.stale_shape() for step in judged.samples),
        stale_tolerance_ms=thresholds.stale_tolerance_ms,
        verdicts=verdicts,
        saturation=saturation,
        capacity=capacity,
        rate_limits=rate_limits,
        rate_limit_usage=rate_limit_usage(rate_limits, classes),
        bottlenecks=bottlenecks,
        audit=run.audit,
        headline=headline(
            words,
            verdicts,
            recovered,
            saturation,
            capacity,
            surge,
            bottlenecks,
            evidence,
            run.audit,
        ),
        scale_out_runs=scale_out_runs,
        timeline=run.timeline,
        exchange=run.exchange,
        evidence=evidence,
        recoveries=recovered,
    )


_REPORT_ASSUMPTIONS = (
    "Rates count orders and position queries; market-data reads ran alongside at the same "
    "multiples and are not counted in them.",
    "A step's served rate counts successes and rejections (margin, precision): a rejection is "
    "the exchange deciding, not falling behind.",
)


def _scale_out(
    runs: Sequence[tuple[RunResult, Saturation | None]],
) -> tuple[tuple[ScalePoint, ...], UslFit]:
    """Each run's place on the scale-out curve, and the USL fitted through them.

    Two runs at one worker count are refused rather than both fitted: which of them to trust
    is the user's call.
    """
    placed: dict[int, tuple[str, Saturation]] = {}
    for run, saturation in runs:
        name = run.directory.name
        workers = run.settings.get("api_workers")
        if type(workers) is not int or workers < 1:
            found = "has no api_workers" if workers is None else f"has api_workers {workers!r}"
            raise ValueError(
                f"{name}: settings.json {found}; a scale-out fit places each run by its API "
                "worker count, a whole number from 1"
            )
        if saturation is None:
            raise ValueError(
                f"{name} is not a step ramp, or the load generator was the limit at every "
                "step, so it has no sustainable rate to fit scale-out to"
            )
        if workers in placed:
            raise ValueError(
                f"{placed[workers][0]} and {name} ran at the same API worker count ({workers}): "
                "a scale-out fit takes one run per count"
            )
        placed[workers] = (name, saturation)
    fit = fit_scale_out({workers: saturation for workers, (_, saturation) in placed.items()})
    points = tuple(
        ScalePoint(run=name, api_workers=workers, sustainable_rate=saturation.sustainable.achieved)
        for workers, (name, saturation) in sorted(placed.items())
    )
    return points, fit
