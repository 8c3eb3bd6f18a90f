from __future__ import annotations

import pytest

from loadtests.report.capacity import (
    OCTOBER_2025,
    Baseline,
    Limit,
    Surge,
    fit_scale_out,
    plan_capacity,
)
from loadtests.report.knee import KneeStatus, Saturation, StepRate, find_saturation
from loadtests.report.slo import SloEvaluation, SloThresholds, evaluate
from loadtests.report.usl import UslFit
from tests.report.exact import exact

BASELINE = Baseline(order_rate=10, query_rate=90)  # 100 req/s at 1x
MULTIPLES = [float(m) for m in range(1, 21)]
OFFERED = [m * BASELINE.total for m in MULTIPLES]  # 100 … 2000 req/s
KNEE_AT_10X = find_saturation(OFFERED, [min(rate, 1000.0) for rate in OFFERED])
KEPT_UP = find_saturation(OFFERED, OFFERED)


def usl(lambda_: float, sigma: float, kappa: float) -> UslFit:
    return UslFit(lambda_, sigma, kappa, r_squared=0.99, workers_measured=(1, 2, 4, 8))


def order_latency_breaking_at(step: int) -> SloEvaluation:
    latency = [1e6 if index >= step else 1.0 for index in range(len(OFFERED))]
    metrics: dict[str, list[float | None]] = {"order_latency_p99_ms": list(latency)}
    return evaluate(SloThresholds.load(), exact(metrics), MULTIPLES, OFFERED)


def test_capacity_is_the_knee_as_a_multiple_of_baseline() -> None:
    plan = plan_capacity(KNEE_AT_10X, BASELINE)

    assert plan.limit is Limit.KNEE
    assert plan.sustainable_rate == 1000
    assert plan.sustainable_multiple == 10
    assert (plan.sustainable_order_rate, plan.sustainable_query_rate) == (100, 900)
    assert plan.ceiling_rate == 1000


def test_october_surge_is_100x_orders_and_1000x_queries() -> None:
    plan = plan_capacity(KNEE_AT_10X, BASELINE)

    assert plan.surge_rate == 100 * 10 + 1000 * 90
    assert plan.surge_multiple == pytest.approx(910)
    assert plan.headroom == pytest.approx(1000 / 91_000)
    assert not plan.holds


def test_a_surge_within_capacity_holds() -> None:
    plan = plan_capacity(KNEE_AT_10X, BASELINE, surge=Surge(order_multiple=5, query_multiple=5))

    assert plan.surge_rate == 500
    assert plan.headroom == 2
    assert plan.holds


def test_a_run_that_kept_up_gives_a_lower_bound() -> None:
    plan = plan_capacity(KEPT_UP, BASELINE)

    assert plan.limit is Limit.TESTED_RANGE
    assert plan.lower_bound
    assert plan.sustainable_rate == 2000
    assert any("lower bound" in sentence for sentence in plan.assumptions)


def test_without_a_knee_a_run_that_fell_behind_is_held_to_its_best_step() -> None:
    saturation = find_saturation(OFFERED, [500.0] * len(OFFERED))

    plan = plan_capacity(saturation, BASELINE)

    assert plan.limit is Limit.PLATEAU
    assert not plan.lower_bound
    assert plan.sustainable_rate == 500


def test_an_slo_broken_before_the_knee_caps_capacity_at_the_last_step_held() -> None:
    plan = plan_capacity(KNEE_AT_10X, BASELINE, slos=order_latency_breaking_at(step=4))

    assert plan.limit is Limit.SLO
    assert plan.limiting_slo is not None
    assert plan.limiting_slo.metric == "order_latency_p99_ms"
    assert plan.sustainable_rate == 400  # step 3, the last before the breach at step 4
    assert plan.sustainable_multiple == 4
    assert any(plan.limiting_slo.label in sentence for sentence in plan.assumptions)


def test_an_slo_broken_past_the_knee_leaves_the_knee_in_charge() -> None:
    plan = plan_capacity(KNEE_AT_10X, BASELINE, slos=order_latency_breaking_at(step=15))

    assert plan.limit is Limit.KNEE
    assert plan.limiting_slo is None
    assert plan.sustainable_rate == 1000


def test_an_slo_broken_at_the_first_step_leaves_no_capacity() -> None:
    plan = plan_capacity(KEPT_UP, BASELINE, slos=order_latency_breaking_at(step=0))

    assert plan.limit is Limit.SLO
    assert plan.sustainable_rate == 0
    assert not plan.lower_bound


GENERATOR_BOUND_FROM_12X = [multiple >= 12 for multiple in MULTIPLES]
"""The load generator was the limit from step 11 (12x) up: it served what it could send."""
GENERATOR_LIMITED = [min(rate, 1150.0) for rate in OFFERED]


def test_steps_where_the_generator_was_the_limit_set_no_knee_and_are_named() -> None:
    # Judged whole, the generator's own ceiling at 1150 req/s reads as the venue's knee.
    assert find_saturation(OFFERED, GENERATOR_LIMITED).status is KneeStatus.FOUND
    saturation = find_saturation(
        OFFERED, GENERATOR_LIMITED, generator_bound=GENERATOR_BOUND_FROM_12X
    )

    plan = plan_capacity(saturation, BASELINE)

    assert saturation.left_out == tuple(range(11, 20))
    assert saturation.knee is None and saturation.falls_behind is None
    assert (plan.limit, plan.sustainable_rate, plan.ceiling_rate) == (
        Limit.TESTED_RANGE,
        1100,
        1100,
    )
    assert plan.lower_bound
    assert (
        "Steps 11, 12, 13, 14, 15, 16, 17, 18 and 19 were left out of the capacity plan: the load "
        "generator, not the venue, was the limit there"
    ) in " ".join(plan.assumptions)
    assert "kept up at every step it could judge, so 1,100 req/s is a lower bound" in " ".join(
        plan.assumptions
    )


def test_a_generator_bound_step_before_a_breach_is_no_rate_held() -> None:
    """Stale reads break at step 6 (7x); steps 4 and 5 were generator-bound, offered less than
    their rates say, so the rate held is step 3's."""
    bound = [index in (4, 5) for index in range(len(OFFERED))]
    stale = [0.5 if index >= 6 else 0.0 for index in range(len(OFFERED))]
    slos = evaluate(
        SloThresholds.load(), exact({"stale_read_rate": stale}), MULTIPLES, OFFERED, bound
    )
    saturation = find_saturation(OFFERED, OFFERED, generator_bound=bound)

    plan = plan_capacity(saturation, BASELINE, slos=slos)

    assert (plan.limit, plan.sustainable_rate) == (Limit.SLO, 400)
    assert "Steps 4 and 5 were left out" in " ".join(plan.assumptions)


def test_slos_that_held_change_nothing() -> None:
    held = evaluate(SloThresholds.load(), {}, MULTIPLES, OFFERED)

    assert plan_capacity(KNEE_AT_10X, BASELINE, slos=held) == plan_capacity(KNEE_AT_10X, BASELINE)


def test_scale_out_names_the_workers_that_would_hold_the_surge() -> None:
    # 1000N / (1 + 0.01(N − 1)) ≥ 91,000  ⇔  90N ≥ 90,090  ⇔  N ≥ 1001
    plan = plan_capacity(KNEE_AT_10X, BASELINE, usl=usl(1000, 0.01, 0))

    assert plan.scale_out is not None
    assert plan.scale_out.reachable
    assert plan.scale_out.workers_needed == 1001
    assert plan.scale_out.verdict == "1001 API workers would hold 91,000 req/s."
    assert any("beyond the 8 measured" in sentence for sentence in plan.assumptions)


def test_a_surge_past_the_usl_peak_is_unreachable_by_scaling_out() -> None:
    fit = usl(1000, 0.04, 0.0024)  # tops out near 7,500 req/s at 20 workers

    plan = plan_capacity(KNEE_AT_10X, BASELINE, usl=fit)

    assert plan.scale_out is not None
    assert plan.scale_out.workers_needed is None
    assert not plan.scale_out.reachable
    assert plan.scale_out.verdict.startswith("Unreachable by scaling out")
    assert "near 20 workers" in plan.scale_out.verdict


def test_scale_out_warns_that_workers_need_not_mend_an_slo_that_capped_capacity() -> None:
    fit = usl(1000, 0.01, 0)
    capped = plan_capacity(KNEE_AT_10X, BASELINE, slos=order_latency_breaking_at(step=4), usl=fit)
    knee = plan_capacity(KNEE_AT_10X, BASELINE, usl=fit)

    warning = (
        "order latency p99 (corrected) broke first here, and more API workers need not mend it."
    )
    assert any(sentence.endswith(warning) for sentence in capped.assumptions)
    assert not any("need not mend" in sentence for sentence in knee.assumptions)


def test_the_mix_shift_is_stated_only_when_orders_and_queries_surge_differently() -> None:
    skewed = plan_capacity(KNEE_AT_10X, BASELINE, surge=OCTOBER_2025)
    even = plan_capacity(KNEE_AT_10X, BASELINE, surge=Surge(50, 50))

    assert any("10x further toward queries" in sentence for sentence in skewed.assumptions)
    assert not any("further toward" in sentence for sentence in even.assumptions)
    assert len(even.assumptions) == len(skewed.assumptions) - 1


def test_scale_out_fit_uses_each_runs_sustainable_rate() -> None:
    truth = usl(500, 0.05, 0.002)
    runs = {
        workers: Saturation(
            status=KneeStatus.FOUND,
            knee=StepRate(
                5, offered=2 * truth.throughput(workers), achieved=truth.throughput(workers)
            ),
            plateau=StepRate(9, offered=5e6, achieved=2 * truth.throughput(workers)),
            falls_behind=None,
            tolerance=0.95,
        )
        for workers in (8, 1, 4, 2, 16)
    }

    fit = fit_scale_out(runs)

    assert (fit.lambda_, fit.sigma, fit.kappa) == pytest.approx((500, 0.05, 0.002))
    assert fit.workers_measured == (1, 2, 4, 8, 16)


@pytest.mark.parametrize(("orders", "queries"), [(-1, 10), (0, 0)])
def test_baseline_needs_some_load(orders: float, queries: float) -> None:
    with pytest.raises(ValueError):
        Baseline(order_rate=orders, query_rate=queries)


def test_surge_multiples_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Surge(order_multiple=0, query_multiple=1000)
