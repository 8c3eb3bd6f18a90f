"""The run in one picture, on the run's clock: what was offered, what users felt, and where each
SLO began to break. The report opens with it, drawn by plotly in the HTML and as an SVG of its
own for report.md (`picture_svg.py`), so both come from these series and say the same.

Panels, top to bottom: the load multiplier per class; corrected p99 latency per class; the
share of position reads stale beyond the tolerance and of requests that timed out; the
liquidations per second, true and as the public feed showed them. A step's value is drawn flat
across the step. A marker stands where an SLO of the headline begins to break, a band over each
step where it is borderline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from loadtests.profiles import RequestClass
from loadtests.report.cascade import liquidation_rates
from loadtests.report.headline import HEADLINE_SLOS
from loadtests.report.plots import CLASS_COLORS
from loadtests.report.schema import Report, percentile
from loadtests.report.slo import Judgement

Point = tuple[float, float | None]
"""Run seconds and a value; None breaks the line."""
Flat = Callable[[Sequence[float | None]], tuple[Point, ...]]
"""Per-step values drawn flat across their steps."""


@dataclass(frozen=True, slots=True)
class Panel:
    title: str
    log: bool
    share: bool
    """Values are fractions, drawn as percentages."""


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    panel: int
    points: tuple[Point, ...]
    color: str
    dashed: bool = False


@dataclass(frozen=True, slots=True)
class Mark:
    """Where one SLO begins to break (`end` is None) or a step where it is borderline."""

    label: str
    start: float
    end: float | None = None


@dataclass(frozen=True, slots=True)
class Picture:
    panels: tuple[Panel, ...]
    series: tuple[Series, ...]
    breaks: tuple[Mark, ...]
    borderline: tuple[Mark, ...]
    duration: float
    """Run seconds the picture spans."""


STALE_COLOR = "#9467bd"
TIMEOUT_COLOR = "#ff7f0e"
TRUE_COLOR = "#8c564b"
FEED_COLOR = "#7f7f7f"


def run_picture(report: Report) -> Picture:
    windows = report.profile.timeline().windows
    spans = [(window.start, window.end) for window in windows]

    def flat(values: Sequence[float | None]) -> tuple[Point, ...]:
        points: list[Point] = []
        for (start, end), value in zip(spans, values, strict=True):
            points += [(start, value), (end, value), (end, None)]
        return tuple(points)

    series = [
        Series(
            _name(klass),
            0,
            tuple(
                point
                for window in windows
                for point in (
                    (window.start, window.entry.of(klass)),
                    (window.ramp_end, window.phase.multipliers.of(klass)),
                    (window.end, window.phase.multipliers.of(klass)),
                )
            ),
            CLASS_COLORS[klass],
        )
        for klass in RequestClass
    ]
    series += [
        Series(
            _name(klass),
            1,
            flat([percentile(row.corrected_ms, "p99") for row in report.classes[klass]]),
            CLASS_COLORS[klass],
        )
        for klass in RequestClass
    ]
    tolerance = report.stale_tolerance_ms
    stale = "stale reads" if tolerance is None else f"reads stale > {tolerance:g} ms"
    series += [
        Series(stale, 2, flat(report.metrics["stale_read_rate"]), STALE_COLOR),
        Series("timed out", 2, flat(report.metrics["timeout_rate"]), TIMEOUT_COLOR),
        *_liquidations(report, flat),
    ]
    breaks, borderline = _marks(report, spans)
    return Picture(
        panels=(
            Panel("load (× baseline)", log=True, share=False),
            Panel("p99 latency, corrected (ms)", log=True, share=False),
            Panel("stale and timed out (%)", log=False, share=True),
            Panel("liquidations per second", log=False, share=False),
        ),
        series=tuple(series),
        breaks=breaks,
        borderline=borderline,
        duration=spans[-1][1] if spans else 0.0,
    )


def short_label(label: str) -> str:
    """An SLO's label without its parenthesis: "timeouts", "order latency p99"."""
    return label.partition(" (")[0]


def _name(klass: RequestClass) -> str:
    return klass.value.replace("_", " ")


def _liquidations(report: Report, flat: Flat) -> list[Series]:
    """Per second from the sampled market when the run has one, else each step's counts."""
    if report.timeline:
        # Every symbol's rates added up, second by second.
        true: dict[float, float | None] = {}
        feed: dict[float, float] = {}
        for rates in liquidation_rates(report.timeline).values():
            for at, rate, shown in zip(rates.times, rates.true, rates.feed, strict=True):
                before = true.get(at, 0.0)
                true[at] = None if before is None or rate is None else before + rate
                feed[at] = feed.get(at, 0.0) + shown
        return [
            Series("liquidations (true)", 3, tuple(sorted(true.items())), TRUE_COLOR),
            Series("on the feed", 3, tuple(sorted(feed.items())), FEED_COLOR, dashed=True),
        ]
    windows = report.profile.timeline().windows
    rows = list(zip(windows, report.feed, strict=True))
    return [
        Series(
            "liquidations (true)",
            3,
            flat([None if row is None else row.liquidations / w.duration for w, row in rows]),
            TRUE_COLOR,
        ),
        Series(
            "on the feed",
            3,
            flat([None if row is None else row.feed_events / w.duration for w, row in rows]),
            FEED_COLOR,
            dashed=True,
        ),
    ]


def _marks(
    report: Report, spans: Sequence[tuple[float, float]]
) -> tuple[tuple[Mark, ...], tuple[Mark, ...]]:
    breaks, borderline = [], []
    for metric in HEADLINE_SLOS:
        verdict = report.verdict(metric)
        label = short_label(verdict.label)
        if verdict.begins_at is not None:
            breaks.append(Mark(label, spans[verdict.begins_at][0]))
        borderline += [
            Mark(label, *spans[index])
            for index, judged in enumerate(verdict.judgements)
            if judged is Judgement.BORDERLINE
        ]
    return tuple(breaks), tuple(borderline)
