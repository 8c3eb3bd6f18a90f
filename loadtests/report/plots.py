"""The capacity report's figures, drawn with plotly from the report model alone.

Each figure answers one question of the report: did throughput follow the load and where did it
bend; what did users wait (corrected) against what a naive tool would say (raw); how requests
failed; how stale positions got; how late and how complete the liquidation feed was; how close
clients came to their rate limits; how a cascade unfolded second by second (prices, marks and
liquidations, true against the feed's); what the mock exchange's own queues, lags and CPU did
meanwhile; and, given runs at several API worker counts, how many workers the surge needs. The
renderer leaves out a figure whose question the run did not measure
(`Report.measured_staleness`, `Report.measured_feed`, no exchange samples) rather than draw it
empty.

Steps are categories named by their label (20×, or a phase name), so a ramp and a cascade read
the same way; latency and multipliers use log axes, because a surge spans orders of magnitude.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from loadtests.metrics import (
    ORDER_COUNT_1M,
    ORDER_COUNT_10S,
    OUTCOME_LABELS,
    USED_WEIGHT_1M,
    Outcome,
)
from loadtests.profiles import (
    DepthWithdrawal,
    Event,
    OracleMode,
    Outage,
    PriceShock,
    Profile,
    RequestClass,
    Timeline,
)
from loadtests.report.bottleneck import (
    BUSY_CPU_PCT,
    redis_cpu,
    redis_rtt_ms,
    role_cpu,
    shed_per_second,
)
from loadtests.report.capacity import ScaleOut
from loadtests.report.cascade import PriceKind, by_symbol, liquidation_rates, price_moves
from loadtests.report.load_axis import LOAD_CLASSES
from loadtests.report.recovery import describe_outage
from loadtests.report.schema import Report, by_step, percentile
from loadtests.report.units import millis, multiple, num, rate, share
from loadtests.results import ExchangeSample, MarketSample, StepSummary

HEIGHT = 420
LOG_AXIS = {"type": "log", "dtick": 1}
"""Log axes labelled at each power of ten only; plotly's 2-and-5 minor labels read as values."""
TEMPLATE = "plotly_white"
CLASS_COLORS = {
    RequestClass.ORDERS: "#1f77b4",
    RequestClass.QUERIES: "#d62728",
    RequestClass.MARKET_DATA: "#2ca02c",
}
OUTCOME_COLORS = {
    Outcome.REJECTED: "#bab0ac",
    Outcome.RATE_LIMITED_429: "#f58518",
    Outcome.BANNED_418: "#b55d0b",
    Outcome.TIMEOUT_408: "#e45756",
    Outcome.EXPIRED_1021: "#9d755d",
    Outcome.UNAVAILABLE_503_UNKNOWN: "#9d2f8f",
    Outcome.UNAVAILABLE_503: "#b279a2",
    Outcome.THROTTLED_1008: "#ff9da6",
    Outcome.CLIENT_TIMEOUT: "#54a24b",
    Outcome.CONNECTION_ERROR: "#4c78a8",
    Outcome.OTHER: "#79706e",
}
GENERATOR_BAND = "#7f7f7f"
SYMBOL_COLORS = ("#f58518", "#4c78a8", "#54a24b", "#b279a2")
PRICE_DASHES = {PriceKind.LAST: "solid", PriceKind.MARK: "dash", PriceKind.INDEX: "dot"}
CASCADE_ROWS = ("load", "prices: move from the first sample", "liquidations per second")
EXCHANGE_ROWS = (
    "backlogs: the engine's queue and the projector's lag",
    "CPU of the process running each role (busiest, where several do)",
    "API: requests in flight, and shed per second",
    "Redis: mean round trip and CPU",
)
ROLE_COLORS = {"api": "#2ca02c", "engine": "#1f77b4", "projector": "#8c564b", "feeds": "#17becf"}
PERCENTILE_WIDTHS = (("p50", 1.0), ("p99", 2.5))
"""The percentiles drawn, the tail thicker: p99 is what the SLOs judge."""
CURVE_POINTS = 200
"""Samples of the fitted scale-out curve: smooth over any range of worker counts."""
CURVE_MARGIN = 1.25
"""The curve runs this far past the workers it is drawn for, so that point is not on the edge."""
LIMIT_NAMES = {
    USED_WEIGHT_1M: "request weight / minute",
    ORDER_COUNT_10S: "orders / 10 s",
    ORDER_COUNT_1M: "orders / minute",
}


def throughput_figure(report: Report) -> go.Figure:
    """Served against offered, on log axes where following the load is the diagonal."""
    steps = report.steps
    offered = [step.offered_rate for step in steps]
    figure = go.Figure()
    figure.add_scatter(
        x=offered,
        y=offered,
        name="offered (served all)",
        mode="lines",
        line={"color": "#999", "dash": "dash"},
    )
    figure.add_scatter(
        x=offered,
        y=[step.served_rate for step in steps],
        name="served (success + rejected)",
        mode="lines+markers+text" if report.ramp else "markers+text",
        text=[step.label for step in steps],
        textposition="top left",
        line={"color": CLASS_COLORS[RequestClass.ORDERS]},
    )
    figure.add_scatter(
        x=offered,
        y=[_succeeded(report, step.index) for step in steps],
        name="succeeded",
        mode="lines+markers" if report.ramp else "markers",
        line={"color": "#9ecae9"},
    )
    saturation = report.saturation
    if saturation is not None and saturation.knee is not None:
        knee = saturation.knee
        figure.add_scatter(
            x=[knee.offered],
            y=[knee.achieved],
            name=f"knee: {steps[knee.step].label}",
            mode="markers",
            marker={"symbol": "star", "size": 16, "color": "#e45756"},
        )
    plan = report.capacity
    if plan is not None and plan.sustainable_rate > 0:
        span = [offered[0], offered[-1]]
        _level(figure, span, plan.sustainable_rate, f"capacity: {rate(plan.sustainable_rate)}")
        _level(
            figure,
            span,
            plan.surge_rate,
            f"surge needs {rate(plan.surge_rate)}",
            color=OUTCOME_COLORS[Outcome.TIMEOUT_408],
        )
    return _layout(
        figure,
        "Offered vs served (orders + queries)",
        xaxis={
            "title": "offered, req/s",
            **LOG_AXIS,
            "tickvals": offered,
            "ticktext": [num(value) for value in offered],
        },
        yaxis={"title": "req/s", **LOG_AXIS},
    )


def _succeeded(report: Report, index: int) -> float:
    rows = [report.classes[klass][index] for klass in LOAD_CLASSES]
    return sum(row.achieved_rate or 0.0 for row in rows)


def scale_out_figure(report: Report) -> go.Figure:
    """Sustainable throughput against API workers: each run as measured, the Universal
    Scalability Law fitted through them out past the workers the surge needs (or where
    throughput peaks), and the surge's rate, which the curve crosses or never reaches."""
    scale_out = report.scale_out
    if scale_out is None:
        raise ValueError("the report has no scale-out fit to draw")
    fit = scale_out.fit
    mark = _scale_out_mark(scale_out)
    # Unreachable with no peak, throughput only nears λ/σ: twice the measured range shows it
    # flattening.
    reach = 2 * fit.workers_measured[-1] if mark is None else max(fit.workers_measured[-1], mark[0])
    workers: list[float] = np.linspace(1, CURVE_MARGIN * reach, CURVE_POINTS).tolist()
    figure = go.Figure()
    figure.add_scatter(
        x=workers,
        y=[fit.throughput(count) for count in workers],
        name=f"USL fit (σ {fit.sigma:.3g}, κ {fit.kappa:.3g}, R² {fit.r_squared:.3f})",
        mode="lines",
        line={"color": CLASS_COLORS[RequestClass.ORDERS]},
    )
    points = report.scale_out_runs
    figure.add_scatter(
        x=[point.api_workers for point in points],
        y=[point.sustainable_rate for point in points],
        name="measured: each run's sustainable rate",
        mode="markers",
        text=[point.run for point in points],
        hovertemplate="%{text}: %{y:,.0f} req/s at %{x} workers",
        marker={"size": 11, "color": "#222"},
    )
    if mark is not None:
        at, name = mark
        figure.add_scatter(
            x=[at],
            y=[fit.throughput(at)],
            name=name,
            mode="markers",
            marker={"symbol": "star", "size": 16, "color": "#e45756"},
        )
    surge = scale_out.target_rate
    _level(
        figure,
        [workers[0], workers[-1]],
        surge,
        f"surge needs {rate(surge)}",
        color=OUTCOME_COLORS[Outcome.TIMEOUT_408],
    )
    return _layout(
        figure,
        "Sustainable throughput by API workers (Universal Scalability Law)",
        xaxis={"title": "API workers", "rangemode": "tozero"},
        yaxis={"title": "req/s", "rangemode": "tozero"},
    )


def _scale_out_mark(scale_out: ScaleOut) -> tuple[float, str] | None:
    """The point the scale-out figure is about: the workers that hold the surge, else the peak;
    None when throughput rises with every worker yet never reaches the surge."""
    if scale_out.workers_needed is not None:
        return scale_out.workers_needed, f"{scale_out.workers_needed} workers hold the surge"
    fit = scale_out.fit
    peak = fit.peak_workers
    if peak is None:
        return None
    return peak, f"peak: {rate(fit.peak_throughput)} at {num(peak)} workers"


def latency_figure(report: Report) -> go.Figure:
    """p50 and p99 per class, corrected (from intended send) solid, raw (from actual send)
    dashed: where they part, the load generator fell behind and raw numbers flatter."""
    labels = _labels(report)
    figure = make_subplots(
        rows=1,
        cols=len(RequestClass),
        shared_yaxes=True,
        subplot_titles=[klass.value.replace("_", " ") for klass in RequestClass],
    )
    thresholds = {
        RequestClass.ORDERS: report.verdict("order_latency_p99_ms").threshold,
        RequestClass.QUERIES: report.verdict("query_latency_p99_ms").threshold,
    }
    for col, klass in enumerate(RequestClass, start=1):
        rows = report.classes[klass]
        color = CLASS_COLORS[klass]
        for kind, dash in (("corrected", "solid"), ("raw", "dash")):
            summaries = [row.corrected_ms if kind == "corrected" else row.raw_ms for row in rows]
            for which, width in PERCENTILE_WIDTHS:
                figure.add_scatter(
                    x=labels,
                    y=[percentile(summary, which) for summary in summaries],
                    name=f"{which} {kind}",
                    legendgroup=f"{which} {kind}",
                    showlegend=col == 1,
                    mode="lines+markers",
                    line={"color": color, "dash": dash, "width": width},
                    row=1,
                    col=col,
                )
        if klass in thresholds:
            threshold = thresholds[klass]
            _level(figure, labels, threshold, f"SLO p99 {millis(threshold)}", row=1, col=col)
    figure.update_yaxes(title_text="ms", col=1)
    figure.update_yaxes(LOG_AXIS)
    _generator_bands(figure, report)
    return _layout(figure, "Latency per class: corrected (solid) vs raw (dashed)")


def errors_figure(report: Report) -> go.Figure:
    """Every request that did not succeed, by how it failed, as a share of the step's
    requests: what a client of the surge was told."""
    labels = _labels(report)
    steps = by_step(report.classes)
    requests = [sum(row.requests for row in rows) for rows in steps]
    figure = go.Figure()
    for outcome, color in OUTCOME_COLORS.items():
        counts = [sum(row.outcomes[outcome] for row in rows) for rows in steps]
        if not any(counts):
            continue
        figure.add_bar(
            x=labels,
            y=[n / total if total else None for n, total in zip(counts, requests, strict=True)],
            name=OUTCOME_LABELS[outcome],
            marker_color=color,
            customdata=counts,
            hovertemplate="%{customdata} requests (%{y:.2%})",
        )
    _generator_bands(figure, report)
    return _layout(
        figure,
        "Requests that did not succeed, by kind (all classes)",
        barmode="stack",
        yaxis={"title": "share of requests", "tickformat": ".0%"},
    )


def staleness_figure(report: Report) -> go.Figure:
    """Stale-read share, stale age, and (against the mock) the journal lag that explains them."""
    queries = report.classes[RequestClass.QUERIES]
    labels = _labels(report)
    figure = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.07,
        subplot_titles=["stale reads", "stale-read age", "journal lag (mock only)"],
    )
    stale = report.verdict("stale_read_rate")
    figure.add_bar(
        x=labels,
        y=[row.stale_rate for row in queries],
        name="stale share",
        marker_color=CLASS_COLORS[RequestClass.QUERIES],
        row=1,
        col=1,
    )
    _level(figure, labels, stale.threshold, f"SLO {share(stale.threshold)}", row=1, col=1)
    for which, width in PERCENTILE_WIDTHS:
        figure.add_scatter(
            x=labels,
            y=[percentile(row.stale_age_ms, which) for row in queries],
            name=f"age {which}",
            mode="lines+markers",
            line={"color": "#9467bd", "width": width},
            row=2,
            col=1,
        )
        figure.add_scatter(
            x=labels,
            y=[percentile(row.journal_lag_events, which) for row in queries],
            name=f"journal lag {which}",
            mode="lines+markers",
            line={"color": "#8c564b", "width": width},
            row=3,
            col=1,
        )
    age = report.verdict("stale_age_p99_ms").threshold
    _level(figure, labels, age, f"SLO age p99 {millis(age)}", row=2, col=1)
    figure.update_yaxes(title_text="share", tickformat=".0%", row=1, col=1)
    figure.update_yaxes(LOG_AXIS, title_text="ms", row=2, col=1)
    figure.update_yaxes(LOG_AXIS, title_text="events", row=3, col=1)
    return _layout(figure, "Stale position reads", height=HEIGHT * 1.6)


def feed_figure(report: Report) -> go.Figure:
    """Liquidation feed lag and completeness: how late, and how much it did not show."""
    floor = report.verdict("feed_completeness").threshold
    return _stream_figure(
        report,
        StreamPanels(
            "Liquidation feed", "feed lag (receive − event time)", "completeness (seen ÷ true)"
        ),
        report.feed,
        ("feed_lag_p99_ms", "#17becf"),
        [
            (
                "completeness",
                [None if row is None else row.completeness for row in report.feed],
                "#bcbd22",
            )
        ],
        (floor, f"SLO completeness {share(floor)}"),
    )


def depth_figure(report: Report) -> go.Figure:
    """The depth stream as local books lived on it: how late, how often a gap forced a resync,
    and how often the book's top was not the venue's."""
    rows = report.depth
    gaps = report.verdict("depth_gap_rate").threshold
    return _stream_figure(
        report,
        StreamPanels(
            "Depth stream", "depth stream lag (receive − event time)", "gaps and differing tops"
        ),
        rows,
        ("depth_lag_p99_ms", "#8c564b"),
        [
            (
                "gaps ÷ events",
                [None if row is None else _ratio(row.depth_gaps, row.feed_events) for row in rows],
                "#d62728",
            ),
            (
                "REST reads whose top differed",
                [
                    None if row is None else _ratio(row.top_different, row.top_samples)
                    for row in rows
                ],
                "#7f7f7f",
            ),
        ],
        (gaps, f"SLO gaps {share(gaps)}"),
    )


class StreamPanels(NamedTuple):
    """A stream figure's title and the titles of its two panels."""

    title: str
    lag: str
    shares: str


def _stream_figure(
    report: Report,
    panels: StreamPanels,
    rows: Sequence[StepSummary | None],
    lag_slo: tuple[str, str],
    bars: Sequence[tuple[str, Sequence[float | None], str]],
    share_slo: tuple[float, str],
) -> go.Figure:
    """A stream per step: its lag percentiles under the lag SLO (`lag_slo`: the objective and
    the lines' colour) above `bars` of shares (name, values, colour) under `share_slo` (the
    threshold and its label)."""
    labels = _labels(report)
    figure = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        subplot_titles=[panels.lag, panels.shares],
    )
    slo, color = lag_slo
    for which, width in PERCENTILE_WIDTHS:
        figure.add_scatter(
            x=labels,
            y=[None if row is None else percentile(row.feed_lag_ms, which) for row in rows],
            name=f"lag {which}",
            mode="lines+markers",
            line={"color": color, "width": width},
            row=1,
            col=1,
        )
    lag = report.verdict(slo).threshold
    _level(figure, labels, lag, f"SLO lag p99 {millis(lag)}", row=1, col=1)
    for name, values, bar_color in bars:
        figure.add_bar(x=labels, y=values, name=name, marker_color=bar_color, row=2, col=1)
    _level(figure, labels, share_slo[0], share_slo[1], row=2, col=1)
    figure.update_yaxes(LOG_AXIS, title_text="ms", row=1, col=1)
    figure.update_yaxes(title_text="share", tickformat=".0%", range=[0, 1.05], row=2, col=1)
    return _layout(figure, panels.title, height=HEIGHT * 1.3)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def rate_limit_figure(report: Report) -> go.Figure:
    """The highest usage any client saw of each limit, against the limit itself."""
    labels = _labels(report)
    figure = go.Figure()
    for name, usage in report.rate_limit_usage.items():
        limit = report.rate_limits.limits[name]
        figure.add_scatter(
            x=labels,
            y=list(usage),
            name=f"{LIMIT_NAMES.get(name, name)} (limit {limit:,})",
            mode="lines+markers",
        )
    figure.add_scatter(
        x=labels,
        y=list(report.metrics["rate_limited_rate"]),
        name="refused: 429 + 418",
        mode="lines+markers",
        line={"color": OUTCOME_COLORS[Outcome.RATE_LIMITED_429], "dash": "dot"},
    )
    _level(figure, labels, 1, "the limit", color=OUTCOME_COLORS[Outcome.TIMEOUT_408])
    source = (
        "limits published by the target"
        if report.rate_limits.published
        else "Binance's published limits assumed"
    )
    return _layout(
        figure,
        f"Rate-limit usage at its peak ({source})",
        yaxis={"title": "share of the limit", "tickformat": ".0%"},
    )


def timeline_figure(profile: Profile, samples: Sequence[MarketSample] = ()) -> go.Figure:
    """The profile's phases on the run's clock and each class's multiplier over time (log);
    given the run's market samples, the cascade under them on the same clock: each symbol's
    last, mark and index price as a move from the first sample, and its liquidations per
    second, true against what the public feed showed."""
    timeline = profile.timeline()
    rows = 3 if samples else 1
    figure = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=CASCADE_ROWS if samples else None,
    )
    for klass in RequestClass:
        times: list[float] = []
        values: list[float] = []
        for window in timeline.windows:
            times += [window.start, window.ramp_end, window.end]
            values += [
                window.entry.of(klass),
                window.phase.multipliers.of(klass),
                window.phase.multipliers.of(klass),
            ]
        figure.add_scatter(
            x=times,
            y=values,
            name=f"{klass.value.replace('_', ' ')} multiplier",
            mode="lines",
            # Market data often moves with orders; dotted, it does not hide their line.
            line={
                "color": CLASS_COLORS[klass],
                "dash": "dot" if klass is RequestClass.MARKET_DATA else "solid",
            },
            row=1,
            col=1,
        )
    _shade_phases(figure, timeline)
    for index, window in enumerate(timeline.windows):
        # Neighbouring labels alternate top and bottom of the load row, so a short phase's
        # label does not run into the next one's, nor into the prices and liquidations below.
        figure.add_annotation(
            text="<br>".join([window.name, *(_event_text(e) for e in window.phase.events)]),
            xref="x",
            yref="y domain",
            x=window.start,
            y=0 if index % 2 else 1,
            xanchor="left",
            yanchor="bottom" if index % 2 else "top",
            showarrow=False,
            font_size=10,
        )
    if samples:
        _draw_cascade(figure, samples)
    peak = max(
        window.phase.multipliers.of(klass) for window in timeline.windows for klass in RequestClass
    )
    figure.update_yaxes(LOG_AXIS, title_text="× baseline", row=1, col=1)
    figure.update_xaxes(title_text="run time, s", row=rows, col=1)
    what = "phases, multipliers, prices and liquidations" if samples else "phases and multipliers"
    return _layout(
        figure,
        f"Profile {profile.name}: {what} (peak {multiple(peak)})",
        height=HEIGHT * 1.8 if samples else HEIGHT,
    )


def exchange_figure(report: Report) -> go.Figure:
    """The exchange's own state second by second under the phases: its backlogs, each role's
    CPU, the API's load and what it shed, and Redis's round trips and CPU."""
    timeline = report.profile.timeline()
    samples = sorted(report.exchange, key=lambda sample: sample.at)
    times = [sample.at for sample in samples]
    figure = make_subplots(
        rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.06, subplot_titles=EXCHANGE_ROWS
    )
    _shade_phases(figure, timeline)
    for index, window in enumerate(timeline.windows):
        figure.add_annotation(
            text=window.name,
            xref="x",
            yref="y domain",
            x=window.start,
            y=1 if index % 2 else 0.9,
            xanchor="left",
            showarrow=False,
            font_size=10,
        )
    backlogs = (
        ("engine queue, commands", [s.orders_queued for s in samples], "#1f77b4"),
        ("projector lag, events", [s.projector_lag_events for s in samples], "#8c564b"),
    )
    for name, values, color in backlogs:
        figure.add_scatter(x=times, y=values, name=name, line_color=color, row=1, col=1)
    for role, color in ROLE_COLORS.items():
        figure.add_scatter(
            x=times,
            y=[role_cpu(sample, role) for sample in samples],
            name=f"{role} process CPU",
            line_color=color,
            row=2,
            col=1,
        )
    _level(figure, times or [0], BUSY_CPU_PCT, "busy", row=2, col=1)
    shed = shed_per_second(samples)
    api: tuple[tuple[str, Sequence[float | None], str], ...] = (
        ("requests shed /s (503)", [requests for requests, _ in shed], "#d62728"),
        ("orders shed /s (-1008)", [orders for _, orders in shed], "#ff7f0e"),
        ("API requests in flight", [_in_flight(sample) for sample in samples], "#2ca02c"),
    )
    for name, counts, color in api:
        figure.add_scatter(x=times, y=counts, name=name, line_color=color, row=3, col=1)
    figure.add_scatter(
        x=times, y=[redis_rtt_ms(s) for s in samples], name="Redis round trip, ms", row=4, col=1
    )
    figure.add_scatter(
        x=times, y=redis_cpu(samples), name="Redis CPU, %", line_dash="dot", row=4, col=1
    )
    figure.update_yaxes(title_text="backlog", rangemode="tozero", row=1, col=1)
    figure.update_yaxes(title_text="% of a core", rangemode="tozero", row=2, col=1)
    figure.update_yaxes(title_text="requests", rangemode="tozero", row=3, col=1)
    figure.update_yaxes(title_text="ms · %", rangemode="tozero", row=4, col=1)
    figure.update_xaxes(title_text="run time, s", row=4, col=1)
    return _layout(figure, "The exchange, second by second", height=HEIGHT * 2)


def _in_flight(sample: ExchangeSample) -> int | None:
    counts = [p.requests_in_flight for p in sample.processes if p.requests_in_flight is not None]
    return sum(counts) if counts else None


def _shade_phases(figure: go.Figure, timeline: Timeline) -> None:
    """Each phase shaded across every row (paper height) on the shared clock."""
    for index, window in enumerate(timeline.windows):
        figure.add_shape(
            type="rect",
            xref="x",
            yref="paper",
            x0=window.start,
            x1=window.end,
            y0=0,
            y1=1,
            fillcolor="#000" if index % 2 else "#fff",
            opacity=0.05,
            line_width=0,
            layer="below",
        )


def _draw_cascade(figure: go.Figure, samples: Sequence[MarketSample]) -> None:
    """Rows 2 and 3 of the timeline: prices, and liquidations per second."""
    colors = {
        symbol: SYMBOL_COLORS[n % len(SYMBOL_COLORS)] for n, symbol in enumerate(by_symbol(samples))
    }
    for (symbol, kind), move in price_moves(samples).items():
        figure.add_scatter(
            x=move.times,
            y=move.moves,
            customdata=move.prices,
            hovertemplate="%{customdata} (%{y:+.2f}%)",
            name=f"{symbol} {kind}",
            mode="lines",
            line={"color": colors[symbol], "dash": PRICE_DASHES[kind]},
            row=2,
            col=1,
        )
    for symbol, rates in liquidation_rates(samples).items():
        for name, values, dash in (
            ("true", rates.true, "solid"),
            ("on the feed", rates.feed, "dot"),
        ):
            figure.add_scatter(
                x=rates.times,
                y=values,
                name=f"{symbol} liquidations, {name}",
                mode="lines",
                line={"color": colors[symbol], "dash": dash, "shape": "vh"},
                row=3,
                col=1,
            )
    figure.update_yaxes(title_text="% from first", ticksuffix="%", row=2, col=1)
    figure.update_yaxes(title_text="per second", rangemode="tozero", row=3, col=1)


def _event_text(event: Event) -> str:
    if isinstance(event, PriceShock):
        size = f"{event.pct:+g}%" if event.pct is not None else f"{event.notional:+,} USDT"
        return f"{event.symbol} {size}"
    if isinstance(event, DepthWithdrawal):
        return f"depth -{event.pct:g}%"
    if isinstance(event, OracleMode):
        return f"oracle: {event.mode.value}"
    if isinstance(event, Outage):
        return describe_outage(event).removeprefix("the ")
    return f"{event.kind.value} {event.value:g}"


def _level(
    figure: go.Figure,
    x: Sequence[object],
    y: float,
    name: str,
    *,
    color: str = "#666",
    **subplot: int,
) -> None:
    """A threshold drawn as a named dotted line across the plot. A trace rather than a shape:
    plotly places shape annotations on log axes by exponent, not by value."""
    figure.add_scatter(
        x=[x[0], x[-1]],
        y=[y, y],
        name=name,
        mode="lines",
        line={"color": color, "dash": "dot", "width": 1.5},
        hoverinfo="name",
        **subplot,
    )


def _labels(report: Report) -> list[str]:
    return [step.label for step in report.steps]


def _generator_bands(figure: go.Figure, report: Report) -> None:
    """Shade the steps where the load generator was the limit: what the figure shows there is
    the generator's lag as much as the venue's."""
    for step in report.steps:
        if step.generator_bound:
            figure.add_vrect(
                x0=step.index - 0.5,
                x1=step.index + 0.5,
                fillcolor=GENERATOR_BAND,
                opacity=0.15,
                line_width=0,
                annotation_text="generator-bound",
                annotation_position="top left",
                row="all",
                col="all",
            )


def _layout(
    figure: go.Figure, title: str, *, height: float = HEIGHT, **layout: object
) -> go.Figure:
    figure.update_layout(
        title={"text": title, "x": 0.01},
        template=TEMPLATE,
        height=height,
        margin={"l": 60, "r": 20, "t": 70, "b": 50},
        legend={"orientation": "h", "y": -0.15},
        **layout,
    )
    return figure
