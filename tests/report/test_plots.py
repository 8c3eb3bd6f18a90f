from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from loadtests.report.build import load_report
from loadtests.report.capacity import ScaleOut
from loadtests.report.plots import (
    errors_figure,
    latency_figure,
    scale_out_figure,
    throughput_figure,
    timeline_figure,
)
from loadtests.report.schema import Report
from loadtests.report.usl import UslFit


def test_the_knee_is_marked_where_the_saturation_found_it(one_worker: Report) -> None:
    knee = next(t for t in throughput_figure(one_worker).data if t.name.startswith("knee"))

    assert knee.name == "knee: 20×"
    assert (knee.x[0], knee.y[0]) == (140, 138.8)


def test_capacity_and_the_surge_are_drawn_as_levels_not_log_axis_annotations(
    one_worker: Report,
) -> None:
    figure = throughput_figure(one_worker)

    levels = {t.name: t.y for t in figure.data if t.mode == "lines" and t.line.dash == "dot"}
    assert levels == {"capacity: 35 req/s": (35, 35), "surge needs 2,500 req/s": (2500, 2500)}
    # plotly places annotations on log axes by exponent: 35 would land at 10^35.
    assert figure.layout.annotations == ()


def test_latency_shows_corrected_and_raw_p99_with_each_class_slo(one_worker: Report) -> None:
    names = {trace.name for trace in latency_figure(one_worker).data}

    assert {"p99 corrected", "p99 raw", "SLO p99 500 ms", "SLO p99 250 ms"} <= names


def test_requests_past_their_recv_window_get_their_own_bar(two_workers: Report) -> None:
    bars = {trace.name: trace for trace in errors_figure(two_workers).data}

    expired = bars["-1021 past recvWindow"]
    assert expired.y[5] == pytest.approx(20 / 6000)  # 20 orders at 50x, of every class's requests
    assert expired.marker.color not in {
        bar.marker.color for name, bar in bars.items() if name != expired.name
    }


def test_the_timeline_shades_each_phase_and_draws_only_the_load_without_samples(
    cascade_run: Path,
) -> None:
    report = load_report(cascade_run)

    figure = timeline_figure(report.profile, report.timeline)

    assert report.timeline == ()
    assert len(figure.layout.shapes) == len(report.profile.phases)
    assert {trace.yaxis for trace in figure.data} == {"y"}


def test_the_timeline_draws_the_cascade_under_the_load_on_one_clock(
    sampled_cascade_run: Path,
) -> None:
    report = load_report(sampled_cascade_run)

    figure = timeline_figure(report.profile, report.timeline)

    traces = {trace.name: trace for trace in figure.data}
    mark = traces["BTCUSDT mark"]
    assert mark.yaxis == "y2" and mark.y[-1] == pytest.approx(-8)
    assert mark.customdata[-1] == "112700.0"  # hovering shows the price itself
    assert {"BTCUSDT last", "BTCUSDT index", "ETHUSDT mark"} <= set(traces)
    true, shown = traces["BTCUSDT liquidations, true"], traces["BTCUSDT liquidations, on the feed"]
    assert true.yaxis == shown.yaxis == "y3"
    assert true.y == pytest.approx((0, 2, 100)) and shown.y == pytest.approx((0, 0.1, 1))
    # One clock: every row follows the bottom one's axis, and each phase is shaded across all.
    assert figure.layout.xaxis.matches == figure.layout.xaxis2.matches == "x3"
    assert len(figure.layout.shapes) == len(report.profile.phases)
    assert all(shape.yref == "paper" for shape in figure.layout.shapes)


def test_the_scale_out_figure_draws_the_runs_the_fit_and_the_surge(scaled_out: Report) -> None:
    figure = scale_out_figure(scaled_out)
    traces = {trace.name: trace for trace in figure.data}

    measured = traces["measured: each run's sustainable rate"]
    assert measured.x == (1, 2, 4)
    assert measured.y == pytest.approx((138.8, 345.2, 668.0))
    assert traces["16 workers hold the surge"].x == (16,)
    assert traces["surge needs 2,500 req/s"].y == (2500, 2500)
    curve = next(trace for name, trace in traces.items() if name.startswith("USL fit"))
    # The curve reaches past the workers the surge needs, and crosses the surge there.
    assert curve.x[0] == 1 and curve.x[-1] > 16
    assert curve.y[-1] > 2500


def test_an_unreachable_surge_marks_the_peak_and_draws_the_curve_past_it(
    scaled_out: Report,
) -> None:
    plan = scaled_out.capacity
    assert plan is not None
    fit = UslFit(100, 0.04, 0.0024, r_squared=0.99, workers_measured=(1, 2, 4))  # peak: 20
    unreachable = scaled_out.model_copy(
        update={
            "capacity": dataclasses.replace(
                plan, scale_out=ScaleOut(fit, plan.surge_rate, fit.workers_for(plan.surge_rate))
            )
        }
    )

    traces = {trace.name: trace for trace in scale_out_figure(unreachable).data}

    assert traces["peak: 749 req/s at 20 workers"].x == (20,)
    curve = next(trace for name, trace in traces.items() if name.startswith("USL fit"))
    assert curve.x[-1] > 20
    assert max(curve.y) < 2500


def test_there_is_no_scale_out_figure_without_a_fit(one_worker: Report) -> None:
    with pytest.raises(ValueError, match="no scale-out fit"):
        scale_out_figure(one_worker)
