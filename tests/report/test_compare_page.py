from __future__ import annotations

import re

from loadtests.report.compare import compare
from loadtests.report.compare_page import compare_html
from loadtests.report.picture_plot import picture_figure
from loadtests.report.run_picture import run_picture
from loadtests.report.schema import Report


def test_the_two_pictures_share_their_axes(one_worker: Report, four_workers: Report) -> None:
    # Four workers ran an eighth step: the one-worker picture is drawn over its 80 s too, and
    # each panel's values on one scale for both.
    pictures = run_picture(one_worker), run_picture(four_workers)

    before, after = (picture_figure(picture, axes=pictures) for picture in pictures)

    assert before.layout.xaxis.range == after.layout.xaxis.range == (0, 80.0)
    for axis in ("yaxis", "yaxis2", "yaxis3", "yaxis4"):
        assert before.layout[axis].range == after.layout[axis].range
        assert before.layout[axis].range is not None


def test_the_page_shows_both_pictures_one_above_the_other_then_what_moved(
    one_worker: Report, two_workers: Report
) -> None:
    page = compare_html(compare(one_worker, two_workers), one_worker, two_workers)

    assert re.findall(r'<div id="(plot-\d+)"', page) == ["plot-1", "plot-2"]
    assert page.index("plot-2") < page.index("What moved")
    assert "SLO values per step (95% intervals)" in page
