"""Headline sentences from judged steps, worded as a reader needs them."""

from __future__ import annotations

from loadtests.profiles import PerClass, RequestClass
from loadtests.report.headline import slo_verdict
from loadtests.report.intervals import wilson
from loadtests.report.schema import StepLoad
from loadtests.report.slo import SloThresholds, evaluate
from loadtests.report.step_words import StepWords

PHASES = (("pre-event", 1.0), ("waterfall", 18.6), ("peak-minute", 357.0), ("aftershock", 2.4))


def _words(ramp: bool) -> StepWords:
    steps = [
        StepLoad(
            index=i,
            name=name,
            label=f"{load:g}×" if ramp else name,
            multiple=load,
            multipliers=PerClass(orders=load, queries=load, market_data=load),
            offered_rate=7 * load,
            served_rate=7 * load,
        )
        for i, (name, load) in enumerate(PHASES)
    ]
    return StepWords(steps, {klass: () for klass in RequestClass}, ramp=ramp)


def _stale_reads_line(
    reads: tuple[int, ...], ramp: bool = False, stale: tuple[int, ...] = (0, 0, 0, 0)
) -> str:
    """The stale-reads sentence of a run whose phases read `reads` positions, `stale` of them
    stale beyond the tolerance."""
    thresholds = SloThresholds.load()
    words = _words(ramp)
    judged = evaluate(
        thresholds,
        {"stale_read_rate": [wilson(k, n) for k, n in zip(stale, reads, strict=True)]},
        [step.multiple for step in words.steps],
        [step.offered_rate for step in words.steps],
    )
    result = next(r for r in judged.results if r.objective.metric == "stale_read_rate")
    return slo_verdict(words, result, thresholds).line


def test_a_heavier_phase_too_thin_to_judge_is_named_not_counted_as_held() -> None:
    """Two cores' demos read 17 positions in the peak minute and said "not reached in any
    phase (up to 357×, in peak-minute)": a phase whose probes fell silent showed nothing."""
    assert _stale_reads_line((600, 800, 17, 900)) == (
        "Stale reads (older than 250 ms): not reached up to waterfall (18.6× the baseline); "
        "too few samples to judge in peak-minute (17 samples)"
    )
    assert _stale_reads_line((600, 12, 17, 900), ramp=True) == (
        "Stale reads (older than 250 ms): not reached up to 2.4×; too few samples to judge at "
        "18.6× and 357× (12-17 samples)"
    )


def test_an_objective_judged_at_its_heaviest_step_is_not_reached_anywhere() -> None:
    # The lightest phase's few reads do not qualify a verdict the heaviest one carries.
    assert _stale_reads_line((12, 800, 900, 900)) == (
        "Stale reads (older than 250 ms): not reached in any phase (up to 357× the baseline, "
        "in peak-minute)"
    )


def test_a_borderline_objective_does_not_count_a_heavier_phase_too_thin_to_judge_as_held() -> None:
    """A demo read 5 of 542 reads stale in the waterfall and 105, none stale, in the peak
    minute, and said "not broken in any phase (up to 357×, in peak-minute)"."""
    assert _stale_reads_line((600, 542, 105, 900), stale=(0, 5, 0, 0)) == (
        "Stale reads (older than 250 ms): borderline in waterfall: 0.39-2.1%, around the 1% SLO; "
        "not broken where judged; too few samples to judge in peak-minute (105 samples)"
    )
    assert _stale_reads_line((600, 542, 900, 900), stale=(0, 5, 0, 0)) == (
        "Stale reads (older than 250 ms): borderline in waterfall: 0.39-2.1%, around the 1% SLO; "
        "not broken in any phase (up to 357× the baseline, in peak-minute)"
    )
