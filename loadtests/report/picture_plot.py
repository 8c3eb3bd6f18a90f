"""The run's picture (`run_picture.py`) drawn by plotly, for the top of report.html and for
`stampede compare`'s page, where two are drawn on the same axes."""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from loadtests.report.run_picture import Picture

PANEL_HEIGHT = 150
BREAK_COLOR = "#d62728"
BORDERLINE_COLOR = "rgba(255, 165, 0, 0.15)"


def picture_figure(picture: Picture, title: str = "", axes: Sequence[Picture] = ()) -> go.Figure:
    """Every panel one above the other on the run's clock; drawn on the same axes as each of
    `axes` (itself included) when pictures are compared."""
    rows = len(picture.panels)
    figure = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.04,
        subplot_titles=[panel.title for panel in picture.panels],
    )
    for series in picture.series:
        scale = 100 if picture.panels[series.panel].share else 1
        figure.add_trace(
            go.Scatter(
                x=[at for at, _ in series.points],
                y=[None if value is None else value * scale for _, value in series.points],
                name=series.name,
                mode="lines",
                line={"color": series.color, "dash": "dash" if series.dashed else "solid"},
                legendgroup=series.name,
                showlegend=series.panel in (0, 2, 3),
                connectgaps=False,
            ),
            row=series.panel + 1,
            col=1,
        )
    for band in picture.borderline:
        figure.add_vrect(
            x0=band.start,
            x1=band.end,
            fillcolor=BORDERLINE_COLOR,
            line_width=0,
            layer="below",
            row="all",
            col=1,
        )
    for mark in picture.breaks:
        figure.add_vline(x=mark.start, line={"color": BREAK_COLOR, "width": 1, "dash": "dot"})
    for n, mark in enumerate(picture.breaks):
        figure.add_annotation(
            x=mark.start,
            y=1.0 + 0.035 * (n + 1),
            yref="paper",
            text=f"{mark.label} breaks",
            showarrow=False,
            xanchor="left",
            font={"size": 10, "color": BREAK_COLOR},
        )
    for row, panel in enumerate(picture.panels, start=1):
        if panel.log:
            figure.update_yaxes(type="log", dtick=1, row=row, col=1)
    figure.update_xaxes(title_text="run seconds", row=rows, col=1)
    if axes:
        figure.update_xaxes(range=[0, max(shown.duration for shown in axes)])
        for row, span in enumerate(_spans(axes), start=1):
            if span is not None:
                figure.update_yaxes(range=list(span), row=row, col=1)
    figure.update_layout(
        template="plotly_white",
        height=PANEL_HEIGHT * rows + 40 * (len(picture.breaks) + 1),
        margin={"t": 40 + 24 * len(picture.breaks), "l": 60, "r": 20, "b": 40},
        title={"text": title} if title else None,
        legend={"orientation": "h", "y": -0.08},
    )
    return figure


def _spans(pictures: Sequence[Picture]) -> list[tuple[float, float] | None]:
    """Each panel's range over every picture, as plotly takes it (log10 on a log axis)."""
    spans: list[tuple[float, float] | None] = []
    for n, panel in enumerate(pictures[0].panels):
        scale = 100 if panel.share else 1
        values = [
            value * scale
            for picture in pictures
            for series in picture.series
            if series.panel == n
            for _, value in series.points
            if value is not None and (value > 0 or not panel.log)
        ]
        if not values:
            spans.append(None)
        elif panel.log:
            spans.append((math.log10(min(values)) - 0.1, math.log10(max(values)) + 0.1))
        else:
            spans.append((0.0, max(values) * 1.05 or 1.0))
    return spans
