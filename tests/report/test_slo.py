from __future__ import annotations

import math
from pathlib import Path

import pytest
from pydantic import ValidationError

from loadtests.report.intervals import Estimate, wilson
from loadtests.report.slo import (
    OBJECTIVES,
    Bound,
    Judgement,
    SloThresholds,
    Step,
    begins_at,
    evaluate,
)
from tests.report.exact import exact

MULTIPLES = [1.0, 2.0, 5.0, 10.0, 20.0]
RATES = [100.0, 200.0, 500.0, 1000.0, 2000.0]


def by_metric(metric: str) -> int:
    return next(i for i, objective in enumerate(OBJECTIVES) if objective.metric == metric)


def test_shipped_thresholds_cover_every_objective() -> None:
    thresholds = SloThresholds.load()

    objectives = {objective.metric for objective in OBJECTIVES}
    # The one setting that is not an objective: the age a stale read may have.
    assert set(SloThresholds.model_fields) == objectives | {"stale_tolerance_ms"}
    assert all(thresholds.threshold(objective) > 0 for objective in OBJECTIVES)


def test_a_custom_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    custom = tmp_path / "slo.yaml"
    custom.write_text("timeout_rate: 0.05\nfeed_completeness: 0.5\n")

    thresholds = SloThresholds.load(custom)

    shipped = SloThresholds.load()
    assert (thresholds.timeout_rate, thresholds.feed_completeness) == (0.05, 0.5)
    assert thresholds.order_latency_p99_ms == shipped.order_latency_p99_ms


def test_an_empty_custom_file_means_the_shipped_thresholds(tmp_path: Path) -> None:
    custom = tmp_path / "slo.yaml"
    custom.write_text("")

    assert SloThresholds.load(custom) == SloThresholds.load()


@pytest.mark.parametrize(
    "text",
    [
        "timeout_rates: 0.05\n",  # a typo must not pass silently
        "timeout_rate: 1.5\n",  # a share above 1
        "order_latency_p99_ms: 0\n",
        "- timeout_rate\n",  # not a mapping
    ],
)
def test_a_bad_custom_file_is_refused(tmp_path: Path, text: str) -> None:
    custom = tmp_path / "slo.yaml"
    custom.write_text(text)

    with pytest.raises(ValueError):
        SloThresholds.load(custom)


def test_thresholds_are_immutable() -> None:
    with pytest.raises(ValidationError):
        SloThresholds.load().timeout_rate = 1  # type: ignore[misc]


def test_ceiling_begins_at_the_first_step_above_it() -> None:
    assert begins_at([1, 2, 5, 3, 6], 4, Bound.CEILING) == 2


def test_reaching_a_threshold_exactly_is_not_breaking_it() -> None:
    assert begins_at([4, 4, 4.01], 4, Bound.CEILING) == 2
    assert begins_at([0.9, 0.9, 0.89], 0.9, Bound.FLOOR) == 2


def test_floor_begins_at_the_first_step_below_it() -> None:
    assert begins_at([1.0, 0.95, 0.8, 0.99], 0.9, Bound.FLOOR) == 2


def test_never_broken_begins_nowhere() -> None:
    assert begins_at([1, 2, 3], 10, Bound.CEILING) is None
    assert begins_at([], 10, Bound.CEILING) is None


def test_broken_at_the_first_step_begins_at_zero() -> None:
    assert begins_at([50, 1, 1], 10, Bound.CEILING) == 0


def test_unmeasured_steps_neither_break_nor_hide_a_later_breach() -> None:
    assert begins_at([None, math.nan, 3, 50], 10, Bound.CEILING) == 3
    assert begins_at([math.nan, None], 10, Bound.FLOOR) is None


def test_evaluation_names_where_each_objective_begins() -> None:
    thresholds = SloThresholds.load().model_copy(
        update={"timeout_rate": 0.01, "feed_completeness": 0.9}
    )
    metrics = {
        "timeout_rate": [0.0, 0.0, 0.002, 0.05, 0.2],
        "feed_completeness": [None, 1.0, 0.95, 0.5, 0.1],
        "unrelated_metric": [1.0, 2.0, 3.0, 4.0, 5.0],
    }

    evaluation = evaluate(thresholds, exact(metrics), MULTIPLES, RATES)

    timeouts = evaluation.results[by_metric("timeout_rate")]
    assert timeouts.broken
    assert timeouts.breach is not None
    assert timeouts.breach.step == Step(index=3, multiple=10.0, offered_rate=1000.0)
    assert (timeouts.breach.value.value, timeouts.worst) == (0.05, 0.2)
    completeness = evaluation.results[by_metric("feed_completeness")]
    assert completeness.breach is not None
    assert completeness.breach.step.multiple == 10.0
    assert completeness.worst == 0.1


def test_an_objective_the_run_did_not_measure_is_neither_held_nor_broken() -> None:
    metrics = {"stale_read_rate": [None, math.nan, None, None, None]}

    evaluation = evaluate(SloThresholds.load(), exact(metrics), MULTIPLES, RATES)

    for result in evaluation.results:
        assert not result.measured
        assert not result.broken


def test_a_held_objective_reports_its_worst_value() -> None:
    metrics = {"feed_completeness": [1.0, 0.99, 0.97, 0.98, 0.96]}

    evaluation = evaluate(SloThresholds.load(), exact(metrics), MULTIPLES, RATES)

    completeness = evaluation.results[by_metric("feed_completeness")]
    assert completeness.measured
    assert not completeness.broken
    assert completeness.worst == 0.96


def test_first_breach_is_the_earliest_and_last_held_the_step_before() -> None:
    thresholds = SloThresholds.load()
    metrics = {
        "error_rate": [0.0, 0.0, 0.5, 0.5, 0.5],
        "order_latency_p99_ms": [10.0, 10.0, 10.0, 1e6, 1e6],
        "rate_limited_rate": [0.0, 0.0, 0.9, 0.9, 0.9],
    }

    evaluation = evaluate(thresholds, exact(metrics), MULTIPLES, RATES)

    first = evaluation.first_breach
    assert first is not None
    assert first.step.index == 2
    # Equal steps: the first in the table's order, which lists rate limiting before errors.
    assert first.objective.metric == "rate_limited_rate"
    assert evaluation.last_held == Step(1, 2.0, 200.0)


def test_a_run_that_broke_nothing_held_to_its_last_step() -> None:
    evaluation = evaluate(SloThresholds.load(), {}, MULTIPLES, RATES)

    assert evaluation.first_breach is None
    assert evaluation.last_held == Step(4, 20.0, 2000.0)


def test_a_run_broken_at_its_first_step_held_nothing() -> None:
    metrics = {"query_latency_p99_ms": [1e6] * 5}

    evaluation = evaluate(SloThresholds.load(), exact(metrics), MULTIPLES, RATES)

    assert evaluation.last_held is None


@pytest.mark.parametrize(
    ("metrics", "multiples", "rates"),
    [
        ({"error_rate": [0.0, 0.0]}, MULTIPLES, RATES),
        ({}, MULTIPLES, RATES[:-1]),
    ],
)
def test_series_must_have_one_value_per_step(
    metrics: dict[str, list[float | None]], multiples: list[float], rates: list[float]
) -> None:
    with pytest.raises(ValueError):
        evaluate(SloThresholds.load(), exact(metrics), multiples, rates)


def test_a_step_breaks_only_when_its_whole_interval_is_beyond_the_threshold() -> None:
    # Timeouts of 1,000 requests per step against a 1% SLO (Wilson bounds worked by hand in
    # test_intervals.py): 2 → 0.11-0.73% holds; 8 → 0.41-1.6% straddles; 30 → 2.1-4.3% breaks.
    thresholds = SloThresholds.load().model_copy(update={"timeout_rate": 0.01})
    shares = [wilson(0, 1000), wilson(2, 1000), wilson(8, 1000), wilson(30, 1000), None]

    evaluation = evaluate(thresholds, {"timeout_rate": shares}, MULTIPLES, RATES)

    timeouts = evaluation.results[by_metric("timeout_rate")]
    assert timeouts.judgements == (
        Judgement.HOLDS,
        Judgement.HOLDS,
        Judgement.BORDERLINE,
        Judgement.BREAKS,
        Judgement.UNMEASURED,
    )
    assert timeouts.breach is not None and timeouts.breach.step.index == 3
    assert timeouts.first(Judgement.BORDERLINE) == 2


def test_a_share_that_could_not_show_it_holds_has_too_few_samples() -> None:
    # None of 100 timed out, but Wilson's upper end is 3.7%: 100 requests cannot show 1%. Two of
    # 100 (2%, 0.55-7%) are evidence near the threshold: borderline.
    thresholds = SloThresholds.load().model_copy(update={"timeout_rate": 0.01})
    shares = [wilson(0, 100), wilson(2, 100), None, None, None]

    evaluation = evaluate(thresholds, {"timeout_rate": shares}, MULTIPLES, RATES)

    judgements = evaluation.results[by_metric("timeout_rate")].judgements
    assert judgements[:2] == (Judgement.TOO_FEW, Judgement.BORDERLINE)


def test_a_p99_without_an_upper_end_is_too_few_unless_its_lower_end_breaks() -> None:
    latency = [
        Estimate(value=90.0, low=40.0, high=None, samples=100),
        Estimate(value=900.0, low=600.0, high=None, samples=100),
        None,
        None,
        None,
    ]

    evaluation = evaluate(SloThresholds.load(), {"order_latency_p99_ms": latency}, MULTIPLES, RATES)

    judgements = evaluation.results[by_metric("order_latency_p99_ms")].judgements
    assert judgements[:2] == (Judgement.TOO_FEW, Judgement.BREAKS)


def test_where_the_generator_was_the_limit_latency_and_timeouts_are_inconclusive() -> None:
    """The feeds' lag and the depth stream's gaps too: a generator short of CPU reads its
    sockets late (a demo's liquidation feed lag "broke" in the phase where the generator fell
    behind)."""
    metrics = exact(
        {
            "order_latency_p99_ms": [10.0, 10.0, 1e6, 1e6, 1e6],
            "timeout_rate": [0.0, 0.0, 0.5, 0.5, 0.5],
            "stale_read_rate": [0.0, 0.0, 0.5, 0.5, 0.5],
            "feed_lag_p99_ms": [10.0, 10.0, 1e6, 1e6, 1e6],
            "depth_lag_p99_ms": [10.0, 10.0, 1e6, 1e6, 1e6],
            "depth_gap_rate": [0.0, 0.0, 0.5, 0.5, 0.5],
        }
    )
    generator_bound = [False, False, True, True, False]

    evaluation = evaluate(SloThresholds.load(), metrics, MULTIPLES, RATES, generator_bound)

    for metric in (
        "order_latency_p99_ms",
        "timeout_rate",
        "feed_lag_p99_ms",
        "depth_lag_p99_ms",
        "depth_gap_rate",
    ):
        result = evaluation.results[by_metric(metric)]
        assert result.judgements[2:4] == (Judgement.INCONCLUSIVE,) * 2
        assert result.breach is not None and result.breach.step.index == 4
    # Staleness is the venue's whatever the generator did: its break stands.
    stale = evaluation.results[by_metric("stale_read_rate")]
    assert stale.breach is not None and stale.breach.step.index == 2
