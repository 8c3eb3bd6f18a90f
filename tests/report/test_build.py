from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from loadtests.metrics import USED_WEIGHT_1M
from loadtests.report.build import load_report
from loadtests.report.capacity import Limit
from loadtests.report.headline import HEADLINE_SLOS
from loadtests.report.knee import KneeStatus
from loadtests.report.load_axis import SERVED
from loadtests.report.rate_limits import BINANCE_LIMITS
from loadtests.report.schema import Component, Report, by_step
from loadtests.report.slo import OBJECTIVES
from loadtests.results import AUDIT_FILE, SETTINGS_FILE, ResultsError
from tests.fixtures.make_runs import RUNS_DIR, write_runs

ONE_WORKER = RUNS_DIR / "step-ramp-small"
TWO_WORKERS = RUNS_DIR / "step-ramp-small-2workers"
FOUR_WORKERS = RUNS_DIR / "step-ramp-small-4workers"

# The fixture's steps: 1, 2, 5, 10, 20, 50, 100x of 7 req/s (5 orders/s, 2 queries/s).
X10, X20, X50, X100 = 3, 4, 5, 6

Row = dict[str, Any]

FAILURE_SHARES = ("rate_limited_rate", "timeout_rate", "error_rate")
"""The objectives that count failed requests: with the served ones, each request once."""


BEGINS = {
    "timeout_rate": (
        X20,
        "Timeouts begin at 20× (140 req/s): 0.33% (0.17-0.66%), over the 0.1% SLO",
    ),
    "stale_read_rate": (
        X10,
        "Stale reads (older than 250 ms) begin at 10× (20 queries/s): 4% (2-7.7%), over the 1% SLO",
    ),
    "rate_limited_rate": (
        X100,
        "Rate limiting begins at 100× (700 req/s): 4% (3.7-4.4%), over the 1% SLO; borderline "
        "earlier, at 50×: 0.6-1.1%",
    ),
    "order_latency_p99_ms": (
        X50,
        "Order latency SLO broken at 50× (250 orders/s): 4.64 s (4.42-4.86 s), over the 500 ms "
        "SLO; borderline earlier, at 20×: 296 ms-3.04 s",
    ),
    "feed_lag_p99_ms": (
        X50,
        "Feed lag SLO broken at 50× (350 req/s): 4.19 s (≥ 3.56 s), over the 2 s SLO",
    ),
    "query_latency_p99_ms": (
        X50,
        "Query latency SLO broken at 50× (100 queries/s): 6.72 s (6.37-6.9 s), over the 250 ms SLO",
    ),
    "stale_age_p99_ms": (
        X20,
        "Stale-read age SLO broken at 20× (40 queries/s): 2.29 s (≥ 2.17 s), over the 1 s SLO",
    ),
    "feed_completeness": (
        X20,
        "Feed completeness SLO broken at 20× (140 req/s): 40% (28-54%), under the 90% SLO",
    ),
    "depth_lag_p99_ms": (
        X50,
        "Depth stream lag SLO broken at 50× (350 req/s): 1.26 s (1.19-1.44 s), over the 500 ms SLO",
    ),
    "depth_gap_rate": (
        X50,
        "Depth stream gaps begin at 50× (350 req/s): 3% (1.7-5.2%), over the 1% SLO",
    ),
    "error_rate": (X50, "Errors begin at 50× (350 req/s): 5% (4.5-5.6%), over the 0.1% SLO"),
}
"""Where the fixture is built to break each objective, and the line saying so."""


@pytest.mark.parametrize("metric", list(BEGINS))
def test_each_objective_begins_at_the_step_the_fixture_breaks_it(
    one_worker: Report, metric: str
) -> None:
    verdict = one_worker.verdict(metric)

    assert (verdict.begins_at, verdict.line) == BEGINS[metric]


def test_every_objective_is_pinned() -> None:
    assert set(BEGINS) == {objective.metric for objective in OBJECTIVES}


def test_the_headline_names_seven_objectives_then_knee_capacity_bottleneck_and_audit(
    one_worker: Report,
) -> None:
    assert one_worker.headline == (
        *(BEGINS[metric][1] for metric in HEADLINE_SLOS),
        "Saturation knee at 20× (140 req/s): 139 req/s served; past it, at most 172 req/s",
        "Capacity: holds 5× baseline (35 req/s, capped by stale position reads from 10×); "
        "a 100×-orders / 1,000×-queries surge needs 2,500 req/s, 71.4× what it holds",
        "Likely bottleneck (heuristic, from client-side symptoms): projector — stale reads began "
        "at 10× (20 queries/s) as journal lag p99 grew from 6 to 169 events: the read model is "
        "falling behind the journal",
        "Conservation audit: PASS",
    )


def test_the_knee_is_where_served_stops_following_offered(one_worker: Report) -> None:
    saturation = one_worker.saturation

    assert saturation is not None
    assert saturation.status is KneeStatus.FOUND
    assert saturation.knee is not None
    assert saturation.knee.step == X20
    assert saturation.knee.offered == pytest.approx(140)
    assert saturation.knee.achieved == pytest.approx(138.8)
    assert saturation.falls_behind is not None and saturation.falls_behind.step == X50
    assert saturation.plateau.achieved == pytest.approx(172.2)


def test_more_api_workers_move_the_knee_out(two_workers: Report) -> None:
    assert two_workers.saturation is not None and two_workers.saturation.knee is not None
    assert two_workers.saturation.knee.step == X50


def test_four_api_workers_move_the_knee_out_again(four_workers: Report) -> None:
    assert four_workers.saturation is not None and four_workers.saturation.knee is not None
    assert four_workers.steps[four_workers.saturation.knee.step].label == "100×"


def test_scale_out_fits_the_usl_through_each_runs_sustainable_rate(scaled_out: Report) -> None:
    assert scaled_out.scale_out is not None
    fit = scaled_out.scale_out.fit
    measured = {point.api_workers: point.sustainable_rate for point in scaled_out.scale_out_runs}

    assert fit.workers_measured == (1, 2, 4)
    mean = sum(measured.values()) / len(measured)
    residual = math.sqrt((1 - fit.r_squared) * sum((x - mean) ** 2 for x in measured.values()))
    misses = [abs(fit.throughput(workers) - rate) for workers, rate in measured.items()]
    assert sum(miss**2 for miss in misses) == pytest.approx(residual**2)
    assert max(misses) <= residual


def test_scale_out_records_each_run_at_the_rate_its_own_report_sustains(
    scaled_out: Report, one_worker: Report, two_workers: Report, four_workers: Report
) -> None:
    alone = (one_worker, two_workers, four_workers)
    points = scaled_out.scale_out_runs

    assert [(point.run, point.api_workers) for point in points] == [
        ("step-ramp-small", 1),
        ("step-ramp-small-2workers", 2),
        ("step-ramp-small-4workers", 4),
    ]
    assert [point.sustainable_rate for point in points] == pytest.approx([138.8, 345.2, 668.0])
    for point, report in zip(points, alone, strict=True):
        assert report.saturation is not None
        assert point.sustainable_rate == report.saturation.sustainable.achieved


def test_scale_out_sizes_the_surge_in_workers_and_says_so_in_the_headline(
    scaled_out: Report, one_worker: Report
) -> None:
    plan = scaled_out.capacity

    assert plan is not None and plan.scale_out is not None
    assert plan.scale_out.workers_needed == 16
    assert plan.scale_out.verdict == "16 API workers would hold 2,500 req/s."
    # The run's own capacity is unchanged; the fit only adds the answer in workers.
    assert one_worker.capacity is not None
    assert plan.sustainable_rate == one_worker.capacity.sustainable_rate
    assert scaled_out.headline == (
        *one_worker.headline[:9],
        "Scale-out (USL over 1, 2, 4 API workers): 16 API workers would hold 2,500 req/s",
        *one_worker.headline[9:],
    )


def test_any_run_can_be_the_reports_the_fit_is_the_same(scaled_out: Report) -> None:
    report = load_report(FOUR_WORKERS, scale_out=[TWO_WORKERS, ONE_WORKER])

    assert report.run == "step-ramp-small-4workers"
    assert report.scale_out is not None and scaled_out.scale_out is not None
    assert report.scale_out.fit == scaled_out.scale_out.fit
    assert report.scale_out_runs == scaled_out.scale_out_runs


def test_a_report_without_other_runs_has_no_scale_out(one_worker: Report) -> None:
    assert one_worker.scale_out is None
    assert one_worker.scale_out_runs == ()


@pytest.mark.parametrize(
    ("settings", "found"),
    [
        ({}, "has no api_workers"),
        ({"api_workers": 0}, "has api_workers 0"),
        ({"api_workers": "4"}, "has api_workers '4'"),
    ],
)
def test_scale_out_needs_each_runs_api_worker_count(
    edited_run: Callable[..., Path], settings: dict[str, Any], found: str
) -> None:
    without = edited_run(replace={SETTINGS_FILE: json.dumps(settings)})

    with pytest.raises(ValueError, match=rf"^edited: settings\.json {found}; a scale-out fit"):
        load_report(TWO_WORKERS, scale_out=[without, FOUR_WORKERS])


def test_scale_out_refuses_a_run_that_is_not_a_step_ramp(cascade_run: Path) -> None:
    with pytest.raises(ValueError, match=r"^oct-2025 is not a step ramp"):
        load_report(TWO_WORKERS, scale_out=[cascade_run, FOUR_WORKERS])
    with pytest.raises(ValueError, match=r"^oct-2025 is not a step ramp"):
        load_report(cascade_run, scale_out=[TWO_WORKERS, FOUR_WORKERS])


def test_scale_out_refuses_two_runs_at_one_worker_count(
    edited_run: Callable[..., Path],
) -> None:
    copy = edited_run()  # the one-worker run under another name

    with pytest.raises(
        ValueError,
        match=r"^step-ramp-small and edited ran at the same API worker count \(1\)",
    ):
        load_report(ONE_WORKER, scale_out=[copy, FOUR_WORKERS])


def test_scale_out_needs_three_worker_counts() -> None:
    with pytest.raises(ValueError, match=r"three or more worker counts; these ran at 1, 4$"):
        load_report(ONE_WORKER, scale_out=[FOUR_WORKERS])


def test_capacity_is_capped_at_the_last_step_before_the_first_slo_broke(
    one_worker: Report,
) -> None:
    plan = one_worker.capacity

    assert plan is not None
    assert plan.limit is Limit.SLO
    assert plan.limiting_slo is not None and plan.limiting_slo.metric == "stale_read_rate"
    assert plan.sustainable_multiple == pytest.approx(5)
    assert plan.sustainable_rate == pytest.approx(35)
    assert (plan.sustainable_order_rate, plan.sustainable_query_rate) == pytest.approx((25, 10))
    assert plan.surge_rate == pytest.approx(100 * 5 + 1000 * 2)
    assert plan.headroom == pytest.approx(35 / 2500)
    assert plan.ceiling_rate == pytest.approx(172.2)


def test_capacity_the_knee_sets_when_every_slo_holds(lenient_slo: Path) -> None:
    report = load_report(ONE_WORKER, lenient_slo)

    assert report.broken == ()
    assert report.capacity is not None and report.capacity.limit is Limit.KNEE
    assert report.headline[8] == (
        "Capacity: holds 19.8× baseline (139 req/s); a 100×-orders / 1,000×-queries surge "
        "needs 2,500 req/s, 18× what it holds"
    )
    assert report.headline[2] == "Rate limiting: not reached up to 100× (the highest step)"


def test_slo_series_are_keyed_by_every_objective_with_one_value_per_step(
    one_worker: Report,
) -> None:
    assert set(one_worker.metrics) == {objective.metric for objective in OBJECTIVES}
    assert all(len(values) == len(one_worker.steps) for values in one_worker.metrics.values())


def test_shares_count_the_right_requests(one_worker: Report) -> None:
    metrics = one_worker.metrics

    # 8 orders answered 408 at 20x, of 1,000 orders, 400 queries and 1,000 market-data reads.
    assert metrics["timeout_rate"][X20] == pytest.approx(8 / 2400)
    rate_limited = (200 + 80 + 200) / (5000 + 2000 + 5000)  # 429s of every class at 100x
    assert metrics["rate_limited_rate"][X100] == pytest.approx(rate_limited)
    assert metrics["feed_completeness"][X20] == pytest.approx(20 / 50)
    assert metrics["stale_read_rate"][0] == 0


def test_timeouts_count_every_deadline_and_errors_only_the_other_failures(
    one_worker: Report,
) -> None:
    # At 50x: 1,125 orders answered 408, and 450 queries and 1,125 market-data reads the client
    # gave up on, of 6,000 requests; 125 + 50 + 125 answered 503.
    assert one_worker.metrics["timeout_rate"][X50] == pytest.approx((1125 + 450 + 1125) / 6000)
    assert one_worker.metrics["error_rate"][X50] == pytest.approx(300 / 6000)


def test_a_request_past_its_recv_window_is_a_timeout_not_an_error(two_workers: Report) -> None:
    # At 50x two workers answer 20 of 2,500 orders -1021 (of 6,000 requests) and nothing 408.
    assert two_workers.metrics["timeout_rate"][X50] == pytest.approx(20 / 6000)
    assert two_workers.metrics["error_rate"][X50] == 0
    assert two_workers.verdict("timeout_rate").line == (
        "Timeouts begin at 50× (350 req/s): 0.33% (0.22-0.51%), over the 0.1% SLO"
    )


@pytest.mark.parametrize("run", [ONE_WORKER, TWO_WORKERS, FOUR_WORKERS])
def test_every_request_counts_once_served_refused_timed_out_or_failed(run: Path) -> None:
    report = load_report(run)
    metrics = report.metrics

    for index, rows in enumerate(by_step(report.classes)):
        requests = sum(row.requests for row in rows)
        served = sum(row.outcomes[outcome] for row in rows for outcome in SERVED)
        failed = sum(metrics[name][index] or 0.0 for name in FAILURE_SHARES)
        assert served / requests + failed == pytest.approx(1)


def test_a_rejection_counts_as_served(one_worker: Report) -> None:
    orders = one_worker.classes[next(iter(one_worker.classes))][0]

    assert orders.achieved_rate == pytest.approx(4.9)  # 2% of orders rejected
    assert one_worker.steps[0].served_rate == pytest.approx(7)
    assert one_worker.steps[0].label == "1×"


def test_rate_limit_usage_is_the_peak_over_the_published_limit(one_worker: Report) -> None:
    assert one_worker.rate_limits.published
    assert one_worker.rate_limit_usage[USED_WEIGHT_1M][0] == pytest.approx(160 / 2400)
    assert one_worker.rate_limit_usage[USED_WEIGHT_1M][X20] == 1


def test_without_published_limits_binance_s_are_assumed(edited_run: Callable[..., Path]) -> None:
    report = load_report(edited_run(replace={SETTINGS_FILE: "{}"}))

    assert not report.rate_limits.published
    assert report.rate_limits.limits == BINANCE_LIMITS


def test_malformed_published_limits_are_a_results_error(edited_run: Callable[..., Path]) -> None:
    settings = json.dumps({"rate_limits": [{"rateLimitType": "ORDERS"}]})

    with pytest.raises(ResultsError, match="rate_limits"):
        load_report(edited_run(replace={SETTINGS_FILE: settings}))


def test_bottlenecks_are_listed_earliest_symptom_first(one_worker: Report) -> None:
    assert [(b.component, b.step) for b in one_worker.bottlenecks] == [
        (Component.PROJECTOR, X10),
        (Component.ENGINE_QUEUE, X20),
        (Component.API_CONCURRENCY, X50),
        (Component.FEED_PUBLISHER, X50),
    ]


def test_timeouts_before_any_408_name_the_queue_in_front_of_the_api(two_workers: Report) -> None:
    # Reads are fast at 50x, yet no order waited for the engine's ack: the -1021s queued in
    # front of the API workers, whose 503s begin at 100x.
    assert [(b.component, b.step) for b in two_workers.bottlenecks] == [
        (Component.PROJECTOR, X10),
        (Component.API_CONCURRENCY, X50),
        (Component.FEED_PUBLISHER, X50),
    ]
    api = two_workers.bottlenecks[1]
    assert api.evidence == (
        "-1021s and client timeouts reached 0.33% of requests at 50× (350 req/s) while order "
        "408s stayed within the SLO: requests wait in front of the API workers, not for the "
        "engine's ack; 503s reached 4% of requests at 100× (700 req/s): API workers are "
        "turning requests away"
    )


def test_client_timeouts_before_any_408_name_the_api_too(edited_run: Callable[..., Path]) -> None:
    def client_timeouts_not_408s_at_20x(row: Row) -> Row:
        outcomes = row["outcomes"]
        if row["index"] == X20 and outcomes["timeout_408"]:
            outcomes["client_timeout"], outcomes["timeout_408"] = outcomes["timeout_408"], 0
        return row

    report = load_report(edited_run(client_timeouts_not_408s_at_20x))

    assert report.verdict("timeout_rate").begins_at == X20
    assert [(b.component, b.step) for b in report.bottlenecks][:2] == [
        (Component.PROJECTOR, X10),
        (Component.API_CONCURRENCY, X20),
    ]


def test_order_timeouts_with_slow_reads_do_not_blame_the_engine(tmp_path: Path) -> None:
    # Query p99 at 20x is about 145 ms: over a 100 ms SLO, reads are slow where 408s begin.
    slo = tmp_path / "slo.yaml"
    slo.write_text("query_latency_p99_ms: 100\n")

    report = load_report(ONE_WORKER, slo)

    assert (report.metrics["query_latency_p99_ms"][X20] or 0) > 100
    assert Component.ENGINE_QUEUE not in {b.component for b in report.bottlenecks}


def test_stale_reads_without_journal_headers_name_the_projector_unconfirmed(
    edited_run: Callable[..., Path],
) -> None:
    def no_journal_lag(row: Row) -> Row:
        row["journal_lag_events"] = None
        return row

    report = load_report(edited_run(no_journal_lag))

    first = report.bottlenecks[0]
    assert first.component is Component.PROJECTOR
    assert "no journal-lag headers" in first.evidence


def test_stale_reads_while_the_journal_keeps_up_do_not_blame_the_projector(
    edited_run: Callable[..., Path],
) -> None:
    def flat_journal_lag(row: Row) -> Row:
        if row["journal_lag_events"] is not None:
            row["journal_lag_events"] = dict.fromkeys(row["journal_lag_events"], 3.0)
        return row

    report = load_report(edited_run(flat_journal_lag))

    assert report.bottlenecks[0].component is Component.ENGINE_QUEUE


def test_a_run_whose_feed_saw_nothing_says_feed_lag_was_not_measured(
    edited_run: Callable[..., Path],
) -> None:
    report = load_report(edited_run(lambda row: None if row["series"] == "feed" else row))

    assert report.feed == (None,) * len(report.steps)
    assert report.verdict("feed_lag_p99_ms").line == "Feed lag SLO: not measured in this run"
    assert not report.verdict("feed_completeness").measured


@pytest.mark.parametrize(
    ("audit", "line"),
    [
        (None, "Conservation audit: not recorded (the run has no audit.json)"),
        (
            '{"passed": false, "quiet": true, "cash_conserved": false, "positions_balanced": true}',
            "Conservation audit: FAIL (cash not conserved)",
        ),
    ],
)
def test_the_audit_line_says_fail_and_why_or_that_there_was_none(
    edited_run: Callable[..., Path], audit: str | None, line: str
) -> None:
    report = load_report(edited_run(replace={AUDIT_FILE: audit}))

    assert report.headline[-1] == line


def test_a_step_missing_a_request_class_row_is_a_results_error(
    edited_run: Callable[..., Path],
) -> None:
    def drop_orders_at_5x(row: Row) -> Row | None:
        return None if (row["series"], row["index"]) == ("orders", 2) else row

    with pytest.raises(ResultsError, match="no orders row for step 2"):
        load_report(edited_run(drop_orders_at_5x))


def test_a_cascade_is_judged_by_phase_without_a_knee_or_capacity(cascade_run: Path) -> None:
    report = load_report(cascade_run)

    assert not report.ramp
    assert report.saturation is None and report.capacity is None
    assert report.steps[2].label == "peak-minute"
    assert report.verdict("timeout_rate").line == (
        "Timeouts begin in peak-minute (357× the baseline, 2,500 req/s): 17% (9.3-28%), over the "
        "0.1% SLO"
    )
    assert report.verdict("rate_limited_rate").line == (
        "Rate limiting: too few samples to judge in any phase (up to 357× the baseline, in "
        "peak-minute)"
    )
    assert "Saturation knee: not sought, as the load does not rise step by step" in report.headline
    assert report.bottlenecks[0].component is Component.ENGINE_QUEUE


def test_the_committed_fixture_runs_are_what_make_runs_writes(tmp_path: Path) -> None:
    for written in write_runs(tmp_path):
        committed = RUNS_DIR / written.name
        files = sorted(p.relative_to(written) for p in written.rglob("*") if p.is_file())
        assert files == sorted(
            p.relative_to(committed) for p in committed.rglob("*") if p.is_file()
        )
        for name in files:
            assert (written / name).read_bytes() == (committed / name).read_bytes(), name


def test_a_step_that_straddles_the_threshold_is_named_borderline_not_broken(
    tmp_path: Path,
) -> None:
    # At 100x, 480 of 12,000 requests were refused (4%, 3.7-4.4%): a 4.2% SLO lies inside.
    slo = tmp_path / "slo.yaml"
    slo.write_text("rate_limited_rate: 0.042\n")

    report = load_report(ONE_WORKER, slo)

    verdict = report.verdict("rate_limited_rate")
    assert verdict.begins_at is None
    assert verdict.line == (
        "Rate limiting: borderline at 100×: 3.7-4.4%, around the 4.2% SLO; not broken up to "
        "100× (the highest step)"
    )


def test_stale_reads_count_against_the_slo_only_beyond_the_tolerance(tmp_path: Path) -> None:
    # At 10x 5% of reads miss a fill, most by about 400 ms: with a one-second tolerance none of
    # them count, and stale reads begin at 20x, where a tenth are 900 ms behind and more.
    slo = tmp_path / "slo.yaml"
    slo.write_text("stale_tolerance_ms: 1000\n")

    strict, tolerant = load_report(ONE_WORKER), load_report(ONE_WORKER, slo)

    assert strict.verdict("stale_read_rate").begins_at == X10
    assert tolerant.metrics["stale_read_rate"][X10] == 0
    assert tolerant.verdict("stale_read_rate").begins_at == X20
    assert tolerant.verdict("stale_read_rate").line.startswith(
        "Stale reads (older than 1 s) begin at 20×"
    )
    # The shape is the same whatever the tolerance: every stale read, then by age.
    shape = tolerant.staleness[X10]
    assert [part.age_ms for part in shape] == [0, 100, 1000, 10_000]
    assert shape[0].estimate.value == pytest.approx(10 / 200)
