"""One line of `stampede compare`: a figure in run A and in run B, how it moved, and whether
that was better, worse or within noise."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from loadtests.report.intervals import Estimate
from loadtests.report.tables import Table


class Verdict(StrEnum):
    BETTER = "better"
    WORSE = "worse"
    SAME = "within noise"
    UNJUDGED = ""
    """Not comparable, or nothing to judge (a setting, a limit's name)."""


@dataclass(frozen=True, slots=True)
class Movement:
    what: str
    before: str
    after: str
    change: str
    verdict: Verdict


def movement_table(title: str, rows: tuple[Movement, ...]) -> Table:
    return Table(
        title,
        ("", "before", "after", "change", "verdict"),
        tuple((m.what, m.before, m.after, m.change, m.verdict.value) for m in rows),
    )


def separate(a: Estimate, b: Estimate) -> bool:
    """Whether two 95% intervals do not overlap: only then did the value move beyond noise."""
    return (a.high is not None and a.high < b.low) or (b.high is not None and b.high < a.low)
