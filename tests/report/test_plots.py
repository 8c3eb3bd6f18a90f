from __future__ import annotations

from pathlib import Path

from loadtests.report.model import Report, load_report
from loadtests.report.plots import latency_figure, throughput_figure, timeline_figure


def test_the_knee_is_marked_where_the_saturation_found_it(one_worker: Report) -> None:
    knee = next(t for t in throughput_figure(one_worker).data if t.name.startswith("knee"))

    assert knee.name == "knee: 20×"
    assert (knee.x[0], knee.y[0]) == (140, 139.2)


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


def test_the_timeline_lays_measured_series_on_a_second_axis(cascade_run: Path) -> None:
    profile = load_report(cascade_run).profile

    figure = timeline_figure(profile, {"BTC mark": ([0.0, 600.0], [122_574.0, 104_783.0])})

    mark = next(trace for trace in figure.data if trace.name == "BTC mark")
    assert mark.yaxis == "y2"
    assert len(figure.layout.shapes) == len(profile.phases)
