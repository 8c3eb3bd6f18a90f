from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

from loadtests.report.build import load_report
from loadtests.report.render import (
    HTML_FILE,
    JSON_FILE,
    MARKDOWN_FILE,
    read_report,
    to_html,
    to_markdown,
    write_report,
)
from loadtests.report.schema import Report


def test_the_three_files_are_written_into_a_new_directory(
    one_worker: Report, tmp_path: Path
) -> None:
    out = tmp_path / "nested" / "out"

    files = write_report(one_worker, out)

    assert (files.html, files.json, files.markdown) == (
        out / HTML_FILE,
        out / JSON_FILE,
        out / MARKDOWN_FILE,
    )
    assert all(path.stat().st_size > 0 for path in (files.html, files.json, files.markdown))


def test_report_json_reads_back_to_an_equal_report(one_worker: Report, tmp_path: Path) -> None:
    files = write_report(one_worker, tmp_path)

    assert read_report(files.json) == one_worker


def test_a_cascade_report_json_reads_back_too(cascade_run: Path, tmp_path: Path) -> None:
    report = load_report(cascade_run)

    assert read_report(write_report(report, tmp_path).json) == report


def test_a_cascade_report_json_reads_back_with_its_timeline(
    sampled_cascade_run: Path, tmp_path: Path
) -> None:
    report = load_report(sampled_cascade_run)

    read = read_report(write_report(report, tmp_path).json)

    assert read == report and len(read.timeline) == 8
    assert read.timeline[-2].mark == Decimal("112700.0")


def test_a_report_json_from_before_timelines_still_reads(cascade_run: Path, tmp_path: Path) -> None:
    path = write_report(load_report(cascade_run), tmp_path).json
    older = json.loads(path.read_text())
    del older["timeline"]
    path.write_text(json.dumps(older))

    assert read_report(path).timeline == ()


def test_markdown_opens_with_the_title_and_every_headline_line(one_worker: Report) -> None:
    markdown = to_markdown(one_worker)

    lines = markdown.splitlines()
    assert lines[0] == "# Capacity report: step-ramp-small"
    assert lines[2] == (
        "![The run at a glance: load, p99s, stale reads, timeouts, liquidations]"
        "(report-timeline.svg)"
    )
    assert [line.partition("](#")[0] for line in lines[4 : 4 + len(one_worker.headline)]] == [
        f"- [{line}" for line in one_worker.headline
    ]
    assert "Timeouts begin at 20× (140 req/s)" in lines[4]
    assert lines[5].endswith("](#stale-position-reads)")


def test_markdown_carries_the_slo_and_step_tables(one_worker: Report) -> None:
    markdown = to_markdown(one_worker)

    assert (
        "| stale position reads | ≤ 1% older than 250 ms | 10× | 4% (2-7.7%) | — | 70% |"
        in markdown
    )
    # Each step with its interval and verdict: 20x straddles the order latency SLO.
    assert "| 4 | 20× | 431 ms (296 ms-3.04 s) borderline |" in markdown
    assert "| 4 | x20 | 20× | 140 | 139 | 99% | knee |" in markdown
    assert "| holds | 5× baseline, 35 req/s |" in markdown


def test_the_class_tables_name_requests_past_their_recv_window(two_workers: Report) -> None:
    markdown = to_markdown(two_workers)

    assert "rejected 2% · 429 rate limited 0.8% · -1021 past recvWindow 0.8% |" in markdown


def test_markdown_leaves_out_sections_that_are_only_a_plot(cascade_run: Path) -> None:
    markdown = to_markdown(load_report(cascade_run))

    assert "## Profile timeline" not in markdown
    assert "## Rate limits" in markdown


def test_the_staleness_shape_shows_how_old_stale_reads_were(one_worker: Report) -> None:
    markdown = to_markdown(one_worker)

    # At 20x: 10% of 399 reads miss a fill, 4.5% one over a second old, none over ten.
    assert "| 4 | 20× | 399 | 10% (7.4-13%) | 10% (7.4-13%) | 4.5% (2.9-7%) | 0% (0-0.95%) |" in (
        markdown
    )


def test_a_run_without_a_feed_says_so_rather_than_showing_an_empty_table(
    cascade_run: Path,
) -> None:
    markdown = to_markdown(load_report(cascade_run))

    assert "The feed saw no liquidations in this run." in markdown
    assert "Capacity is read from a step ramp" in markdown


def test_html_is_self_contained_with_plotly_inline(one_worker: Report) -> None:
    html = to_html(one_worker)

    assert not re.search(r"<script[^>]*\bsrc=", html, re.IGNORECASE)
    assert not re.search(r"<link[^>]*\bhref=[\"']?https?:", html, re.IGNORECASE)
    assert "Plotly.newPlot" in html
    assert len(re.findall(r'<div id="plot-\d+"', html)) == 8


def test_a_cascade_html_draws_its_timeline_and_skips_what_it_did_not_measure(
    cascade_run: Path,
) -> None:
    report = load_report(cascade_run)

    html = to_html(report)

    assert not (report.measured_staleness or report.measured_feed)
    assert len(re.findall(r'<div id="plot-\d+"', html)) == 6
    assert "Profile oct-2025: phases and multipliers" in html
    assert "Stale position reads" not in html


def test_a_sampled_cascade_draws_prices_and_liquidations_on_its_timeline(
    sampled_cascade_run: Path,
) -> None:
    report = load_report(sampled_cascade_run)

    html, markdown = to_html(report), to_markdown(report)

    # The run's picture, then the others; prices and liquidations in the profile timeline.
    assert len(re.findall(r'<div id="plot-\d+"', html)) == 6
    assert "Profile oct-2025: phases, multipliers, prices and liquidations" in html
    assert "BTCUSDT liquidations, on the feed" in html
    # The Markdown has no figure, but says what the figure shows.
    assert "## Profile timeline" in markdown and "Sampled once a second" in markdown


def test_html_shows_the_headline_escaped(one_worker: Report) -> None:
    hostile = one_worker.model_copy(
        update={"headline": ("Timeouts begin at <script>alert(1)</script>",)}
    )

    html = to_html(hostile)

    assert "Timeouts begin at &lt;script&gt;alert(1)&lt;/script&gt;</a></li>" in html


def test_each_headline_line_links_to_a_section_the_page_has(cascade_run: Path) -> None:
    # The cascade measured no stale reads: its stale-reads line goes to the SLO table.
    html = to_html(load_report(cascade_run))

    links = re.findall(r'<li><a href="#([a-z0-9-]+)">', html)
    ids = set(re.findall(r'<h2 id="([a-z0-9-]+)">', html))
    assert links and set(links) <= ids
    assert "slos-where-each-one-begins-to-break" in links


def test_report_md_shows_the_run_picture_written_beside_it(
    one_worker: Report, tmp_path: Path
) -> None:
    files = write_report(one_worker, tmp_path)

    assert files.picture.name in files.markdown.read_text()
    assert files.picture.read_text().startswith("<svg ")


def test_html_renders_identically_twice(one_worker: Report) -> None:
    assert to_html(one_worker) == to_html(one_worker)


def test_report_json_reads_back_the_scale_out_fit_and_its_runs(
    scaled_out: Report, tmp_path: Path
) -> None:
    back = read_report(write_report(scaled_out, tmp_path).json)

    assert back == scaled_out
    assert back.scale_out is not None and back.scale_out.workers_needed == 16
    assert [point.api_workers for point in back.scale_out_runs] == [1, 2, 4]


def test_the_scale_out_verdict_and_runs_are_in_the_markdown_and_the_html(
    scaled_out: Report, tmp_path: Path
) -> None:
    files = write_report(scaled_out, tmp_path)
    markdown = files.markdown.read_text()
    html = files.html.read_text()

    verdict = "16 API workers would hold 2,500 req/s."
    assert verdict in markdown
    assert f'<p class="note">{verdict}</p>' in html
    assert "| step-ramp-small-4workers | 4 | 668 | 632 |" in markdown
    assert "<td>step-ramp-small-4workers</td><td>4</td><td>668</td><td>632</td>" in html


def test_the_scale_out_figure_is_drawn_only_when_a_fit_was_made(
    scaled_out: Report, one_worker: Report
) -> None:
    title = "Sustainable throughput by API workers"
    plots = re.compile(r'<div id="plot-\d+"')

    with_fit, without = to_html(scaled_out), to_html(one_worker)

    assert title in with_fit and title not in without
    assert len(plots.findall(with_fit)) == len(plots.findall(without)) + 1
    assert "Scale-out runs" not in to_markdown(one_worker)
