from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from loadtests.report.build import load_report
from loadtests.report.picture_svg import picture_svg
from loadtests.report.run_picture import Mark, run_picture
from loadtests.report.schema import Report

SVG = "{http://www.w3.org/2000/svg}"


def test_each_slo_is_marked_where_it_begins_to_break_on_the_run_clock(one_worker: Report) -> None:
    # Ten seconds a step: 10x starts at 30 s, 20x at 40 s, 50x at 50 s, 100x at 60 s.
    breaks = {mark.label: mark.start for mark in run_picture(one_worker).breaks}

    assert breaks == {
        "stale position reads": 30.0,
        "timeouts": 40.0,
        "order latency p99": 50.0,
        "liquidation feed lag p99": 50.0,
        "depth stream gaps": 50.0,
        "depth stream lag p99": 50.0,
        "rate limiting": 60.0,
    }


def test_a_borderline_step_is_a_band_over_the_step(one_worker: Report) -> None:
    borderline = run_picture(one_worker).borderline

    assert Mark("order latency p99", 40.0, 50.0) in borderline
    assert Mark("rate limiting", 50.0, 60.0) in borderline


def test_the_picture_draws_load_p99s_stale_and_timed_out_and_liquidations(
    one_worker: Report,
) -> None:
    picture = run_picture(one_worker)

    names = {(series.panel, series.name) for series in picture.series}
    assert {(0, "orders"), (1, "queries"), (2, "timed out"), (3, "on the feed")} <= names
    assert (2, "reads stale > 250 ms") in names
    assert picture.duration == 70.0
    timed_out = next(series for series in picture.series if series.name == "timed out")
    assert (60.0, one_worker.metrics["timeout_rate"][6]) in timed_out.points


def test_a_sampled_cascade_draws_its_liquidations_second_by_second(
    sampled_cascade_run: Path,
) -> None:
    picture = run_picture(load_report(sampled_cascade_run))

    true = next(series for series in picture.series if series.name == "liquidations (true)")
    # BTC's 500 liquidations over the 250 s from 100 s to 350 s; ETH has none.
    assert (350.0, 2.0) in true.points


def test_the_svg_is_well_formed_and_names_every_break(one_worker: Report) -> None:
    svg = ET.fromstring(picture_svg(run_picture(one_worker)))

    texts = [text.text for text in svg.iter(f"{SVG}text")]
    assert "timeouts breaks" in texts and "stale position reads breaks" in texts
    assert len(list(svg.iter(f"{SVG}polyline"))) >= 3 * 2 + 2
