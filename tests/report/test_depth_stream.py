"""The depth stream in the report: where its gaps and lag break their SLOs, the table beside
the feed's, and runs from before it was followed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from loadtests.report.build import load_report
from loadtests.report.plots import depth_figure
from loadtests.report.render import to_markdown
from loadtests.report.schema import Report
from loadtests.report.slo import Judgement

X50 = 5


def test_the_headline_says_where_depth_stream_gaps_begin_and_its_lag_breaks(
    one_worker: Report,
) -> None:
    gaps, lag = one_worker.verdict("depth_gap_rate"), one_worker.verdict("depth_lag_p99_ms")
    assert gaps.line in one_worker.headline and lag.line in one_worker.headline
    assert gaps.line.startswith("Depth stream gaps begin at 50×")
    assert lag.line.startswith("Depth stream lag SLO broken at 50×")
    # Four hundred events a step bound a p99 and a 1% share: the healthy steps hold.
    for verdict in (gaps, lag):
        assert verdict.judgements[:X50] == (Judgement.HOLDS,) * X50
        assert verdict.judgements[X50] is Judgement.BREAKS


def test_the_depth_table_shows_each_steps_lag_gaps_resyncs_and_top(one_worker: Report) -> None:
    markdown = to_markdown(one_worker)
    section = markdown[markdown.index("## Depth stream and local books") :]
    section = section[: section.index("\n## ", 1)]
    assert "| 0 | x1 | 400 | 40.8 ms | 72.8 ms | 0 | 0 | 0% | 0 |" in section
    assert "| 5 | x50 | 400 | 708 ms | 1.26 s | 12 | 12 | 50% | 3 |" in section


def test_the_depth_figure_draws_lag_against_its_slo_and_the_shares_of_gaps(
    one_worker: Report,
) -> None:
    traces = {trace.name: trace for trace in depth_figure(one_worker).data}
    assert {"lag p50", "lag p99", "SLO lag p99 500 ms", "SLO gaps 1%"} <= set(traces)
    assert traces["gaps ÷ events"].y[X50] == 12 / 400
    assert traces["REST reads whose top differed"].y[X50] == 0.5


def _before_depth(row: dict[str, Any]) -> dict[str, Any] | None:
    """A step row as written before the depth stream was followed."""
    if row["series"] == "depth_stream":
        return None
    for key in ("depth_gaps", "depth_resyncs", "top_samples", "top_different", "top_off_ticks"):
        del row[key]
    return row


def test_a_run_from_before_the_depth_stream_reads_with_it_unmeasured(
    edited_run: Callable[..., Path],
) -> None:
    report = load_report(edited_run(_before_depth))
    assert not report.measured_depth
    assert report.verdict("depth_gap_rate").line == "Depth stream gaps: not measured in this run"
    assert report.verdict("depth_lag_p99_ms").begins_at is None
    assert "Depth stream and local books" not in to_markdown(report)
    # The rest of the verdicts are as they were.
    assert report.verdict("timeout_rate").begins_at == 4
