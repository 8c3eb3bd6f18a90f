"""The run's picture (`run_picture.py`) as an SVG the report writes itself, for report.md.

A ticket or a pull request shows an image but runs no script, and plotly's own static export
needs a browser on the machine that writes the report. The picture is a few lines and bands,
so it is drawn here: panels one above the other on the run's clock, each with its range
labelled, a dotted line where an SLO begins to break and a shaded band where it is borderline.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

from loadtests.report.run_picture import Panel, Picture, Series

WIDTH = 960
LEFT = 70
RIGHT = 20
TOP = 30
PANEL = 110
GAP = 34
LEGEND = 18
BREAK_COLOR = "#d62728"
BORDERLINE_COLOR = "#ffa500"


def picture_svg(picture: Picture) -> str:
    plot_width = WIDTH - LEFT - RIGHT
    labels = TOP + LEGEND * len(picture.breaks)
    height = labels + len(picture.panels) * (PANEL + GAP) + 2 * LEGEND
    duration = picture.duration or 1.0

    def x(at: float) -> float:
        return LEFT + plot_width * at / duration

    body: list[str] = []
    bottom = labels + len(picture.panels) * (PANEL + GAP) - GAP
    for band in picture.borderline:
        end = band.end if band.end is not None else band.start
        body.append(
            f'<rect x="{x(band.start):.1f}" y="{labels}" width="{x(end) - x(band.start):.1f}" '
            f'height="{bottom - labels}" fill="{BORDERLINE_COLOR}" fill-opacity="0.12">'
            f"<title>{escape(band.label)} borderline</title></rect>"
        )
    for n, panel in enumerate(picture.panels):
        top = labels + n * (PANEL + GAP) + 14
        mine = [series for series in picture.series if series.panel == n]
        body += _panel(panel, mine, top, x)
    for n, mark in enumerate(picture.breaks):
        at = x(mark.start)
        body.append(
            f'<line x1="{at:.1f}" y1="{TOP + LEGEND * n}" x2="{at:.1f}" y2="{bottom}" '
            f'stroke="{BREAK_COLOR}" stroke-dasharray="2,3"/>'
            f'<text x="{at + 3:.1f}" y="{TOP + LEGEND * n + 10}" fill="{BREAK_COLOR}">'
            f"{escape(mark.label)} breaks</text>"
        )
    body += _legend(picture, height - 2 * LEGEND + 12)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">'
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>' + "".join(body) + "</svg>\n"
    )


def _panel(
    panel: Panel, series: list[Series], top: float, x: Callable[[float], float]
) -> list[str]:
    scale = 100 if panel.share else 1
    values = [
        value * scale
        for one in series
        for _, value in one.points
        if value is not None and (value > 0 or not panel.log)
    ]
    low, high = _range(values, panel.log)

    def y(value: float) -> float:
        shown = math.log10(value) if panel.log else value
        return top + PANEL * (1 - (shown - low) / (high - low))

    unit = "%" if panel.share else ""
    shown_low, shown_high = (10**low, 10**high) if panel.log else (low, high)
    parts = [
        f'<text x="{LEFT}" y="{top - 4}" font-weight="bold">{escape(panel.title)}</text>',
        f'<rect x="{LEFT}" y="{top}" width="{WIDTH - LEFT - RIGHT}" height="{PANEL}" '
        'fill="none" stroke="#ccc"/>',
        f'<text x="{LEFT - 4}" y="{top + 10}" text-anchor="end">{shown_high:.3g}{unit}</text>',
        f'<text x="{LEFT - 4}" y="{top + PANEL}" text-anchor="end">{shown_low:.3g}{unit}</text>',
    ]
    for one in series:
        for line in _lines(one, scale, panel.log):
            points = " ".join(f"{x(at):.1f},{y(value):.1f}" for at, value in line)
            dash = ' stroke-dasharray="5,3"' if one.dashed else ""
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{one.color}" '
                f'stroke-width="1.5"{dash}/>'
            )
    return parts


def _range(values: list[float], log: bool) -> tuple[float, float]:
    """The panel's value range (in log10 on a log panel), never empty."""
    if not values:
        return (0.0, 1.0)
    if log:
        floor, ceiling = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
        return (floor, ceiling if ceiling > floor else floor + 1)
    most = max(values)
    return (0.0, most if most > 0 else 1.0)


def _lines(series: Series, scale: float, log: bool) -> list[list[tuple[float, float]]]:
    """The series' unbroken runs of points (a None, or nothing to draw on a log axis, breaks it)."""
    lines: list[list[tuple[float, float]]] = [[]]
    for at, value in series.points:
        if value is None or (log and value <= 0):
            lines.append([])
        else:
            lines[-1].append((at, value * scale))
    return [line for line in lines if len(line) > 1]


def _legend(picture: Picture, baseline: float) -> list[str]:
    seen: dict[str, Series] = {}
    for series in picture.series:
        seen.setdefault(series.name, series)
    parts, at = [], float(LEFT)
    for name, series in seen.items():
        dash = ' stroke-dasharray="5,3"' if series.dashed else ""
        parts.append(
            f'<line x1="{at:.0f}" y1="{baseline - 4}" x2="{at + 18:.0f}" y2="{baseline - 4}" '
            f'stroke="{series.color}" stroke-width="2"{dash}/>'
            f'<text x="{at + 22:.0f}" y="{baseline}">{escape(name)}</text>'
        )
        at += 30 + 6.5 * len(name)
    return parts
