"""What does reading the HDR histograms cost a report and a scrape? One committed fixture run,
in one process:

- `report`: `load_report` of the run as shipped (histograms read once through numpy);
- `percentiles, hdrh`: each step histogram's p50/p90/p99/p99.9 and its count beyond 250 ms by
  hdrh's own walks of all 17,408 buckets, against the same through `Recorded`;
- the same for the (value, count) pairs a Prometheus scrape of the harness exports.

It prints the seconds of each and the ratio of hdrh's walk to ours.

Run: .venv/bin/python benchmarks/report_build.py
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from harness import best_of
from hdrh.histogram import HdrHistogram
from rich.console import Console
from rich.table import Table

from loadtests.recorded import Recorded
from loadtests.report.build import load_report
from loadtests.results import read_run

RUN = Path(__file__).parent.parent / "tests" / "fixtures" / "runs" / "step-ramp-small"
ROUNDS = 3
PERCENTILES = (50.0, 90.0, 99.0, 99.9)
THRESHOLD_US = 250_000


def hdrh_reads(histograms: list[HdrHistogram]) -> None:
    for histogram in histograms:
        histogram.get_percentile_to_value_dict(list(PERCENTILES))
        limit = histogram.get_highest_equivalent_value(THRESHOLD_US)
        sum(
            item.count_at_value_iterated_to
            for item in histogram.get_recorded_iterator()
            if item.value_iterated_to > limit
        )


def recorded_reads(histograms: list[HdrHistogram]) -> None:
    for histogram in histograms:
        recorded = Recorded(histogram)
        for percentile in PERCENTILES:
            recorded.value_at_percentile(percentile)
        recorded.count_above(THRESHOLD_US)


def hdrh_pairs(histograms: list[HdrHistogram]) -> None:
    for histogram in histograms:
        [
            (i.value_iterated_to, i.count_at_value_iterated_to)
            for i in histogram.get_recorded_iterator()
        ]


def recorded_pairs(histograms: list[HdrHistogram]) -> None:
    for histogram in histograms:
        list(Recorded(histogram))


def main() -> None:
    run = read_run(RUN)
    histograms = [run.histogram(key) for key in run.histogram_files]
    histograms = [histogram for histogram in histograms if histogram.get_total_count()]
    table = Table(
        "work", "hdrh's walk (s)", "Recorded (s)", "ratio", title=f"{len(histograms)} histograms"
    )
    for name, slow, fast in (
        ("percentiles and a count", hdrh_reads, recorded_reads),
        ("(value, count) pairs", hdrh_pairs, recorded_pairs),
    ):
        slow_s = best_of(ROUNDS, partial(slow, histograms))
        fast_s = best_of(ROUNDS, partial(fast, histograms))
        table.add_row(name, f"{slow_s:.3f}", f"{fast_s:.4f}", f"{slow_s / fast_s:.0f}×")
    Console().print(table)
    Console().print(f"load_report of {RUN.name}: {best_of(ROUNDS, lambda: load_report(RUN)):.2f} s")


if __name__ == "__main__":
    main()
