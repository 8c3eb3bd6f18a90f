"""Two runs' recoveries from the same drill outage (a 2 s Redis outage, orders refused while it
lasts, then held until the exchange answers again), compared: an order every tenth of a second,
so a recovery time is resolved to 0.2 s and when latency held again to 1 s."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.profiles import CrashedRole, RedisOutage, RoleCrash
from loadtests.report.build import load_report
from loadtests.report.compare import Comparison, compare
from loadtests.report.compare_page import compare_html
from loadtests.report.movement import Movement, Verdict
from loadtests.report.schema import Report
from loadtests.results import AppliedEvent
from tests.report.drill import BACK_AT, OUTAGE_AT, drill

OUTAGE = "2 s Redis outage in waterfall"
RECOVERED = f"{OUTAGE}: recovered in"
LATENCY_HELD = f"{OUTAGE}: order latency within 500 ms again"
REFUSED = f"{OUTAGE}: failed meanwhile, 503 unavailable"
TIMED_OUT = f"{OUTAGE}: failed meanwhile, 408 / -1007 timeout"


@pytest.fixture(scope="module")
def drills(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Report]:
    """The drill with the exchange back 1.2 s after the outage ended, a tenth later, 3.0 s
    after, and never."""
    root = tmp_path_factory.mktemp("drills")
    backs = {"on-time": BACK_AT, "a-tenth-later": BACK_AT + 0.1, "late": 15.0, "never": None}
    return {
        name: load_report(drill(root / name, back_at=back).directory)
        for name, back in backs.items()
    }


def _row(comparison: Comparison, what: str) -> Movement:
    return next(row for row in comparison.recoveries if row.what == what)


def test_a_recovery_later_by_more_than_its_resolution_is_worse(drills: dict[str, Report]) -> None:
    slower = compare(drills["on-time"], drills["late"])

    assert _row(slower, RECOVERED) == Movement(
        RECOVERED, "1.2 s", "3.0 s", "+1.8 s (resolution ±0.2 s)", Verdict.WORSE
    )
    # Orders waited past 500 ms until 14.5 instead of 12.5: latency held from the end of the
    # outage's fifth second instead of its third.
    assert _row(slower, LATENCY_HELD) == Movement(
        LATENCY_HELD,
        "3.0 s after it began",
        "5.0 s after it began",
        "+2.0 s (resolution ±1 s)",
        Verdict.WORSE,
    )
    # Both refused the same 40 requests while the outage lasted; the late one only held more.
    refused = _row(slower, REFUSED)
    assert (refused.before, refused.after, refused.verdict) == (
        "40 (29.4-54.5)",
        "40 (29.4-54.5)",
        Verdict.SAME,
    )
    assert _row(compare(drills["late"], drills["on-time"]), RECOVERED).verdict is Verdict.BETTER


def test_a_recovery_a_tenth_later_is_within_its_resolution(drills: dict[str, Report]) -> None:
    nearly = compare(drills["on-time"], drills["a-tenth-later"])

    recovered = _row(nearly, RECOVERED)
    assert (recovered.after, recovered.change) == ("1.3 s", "+0.1 s (resolution ±0.2 s)")
    assert {row.verdict for row in nearly.recoveries} == {Verdict.SAME}


def test_the_same_run_twice_moved_nowhere(drills: dict[str, Report], tmp_path: Path) -> None:
    again = load_report(drill(tmp_path / "on-time-again").directory)

    rerun = compare(drills["on-time"], again)

    assert [row.what for row in rerun.recoveries] == [RECOVERED, LATENCY_HELD, REFUSED]
    assert {row.verdict for row in rerun.recoveries} == {Verdict.SAME}


def test_never_recovering_is_worse_and_so_are_the_timeouts_it_piled_up(
    drills: dict[str, Report],
) -> None:
    stuck = compare(drills["on-time"], drills["never"])

    assert _row(stuck, RECOVERED) == Movement(RECOVERED, "1.2 s", "never", "", Verdict.WORSE)
    timed_out = _row(stuck, TIMED_OUT)
    assert (timed_out.before, timed_out.after) == ("0 (0-3.84)", "360 (325-399)")
    assert (timed_out.change, timed_out.verdict) == ("new", Verdict.WORSE)
    assert _row(stuck, REFUSED).verdict is Verdict.SAME


def test_an_outage_in_one_run_only_is_listed_as_such(drills: dict[str, Report]) -> None:
    on_time = drills["on-time"]
    calm = on_time.model_copy(update={"run": "calm", "recoveries": ()})

    assert compare(on_time, calm).recoveries == (
        Movement(
            OUTAGE, "recovered in 1.2 s", "not in this run", "only in on-time", Verdict.UNJUDGED
        ),
    )
    assert compare(calm, on_time).recoveries == (
        Movement(
            OUTAGE, "not in this run", "recovered in 1.2 s", "only in on-time", Verdict.UNJUDGED
        ),
    )


def test_outages_are_matched_by_kind_and_phase_whatever_they_lasted(
    drills: dict[str, Report], tmp_path: Path
) -> None:
    def rehearsing(name: str, event: RedisOutage | RoleCrash) -> Report:
        applied = AppliedEvent(at=OUTAGE_AT, step="waterfall", event=event, status="applied")
        return load_report(drill(tmp_path / name, events=[applied]).directory)

    # The same exchange, its outage said to last 3 s: back 0.2 s after it ended, not 1.2 s.
    longer = compare(drills["on-time"], rehearsing("longer", RedisOutage(seconds=3)))
    crashed = compare(drills["on-time"], rehearsing("crashed", RoleCrash(role=CrashedRole.ENGINE)))

    recovered = longer.recoveries[0]
    assert recovered.what == "2 s Redis outage → 3 s Redis outage in waterfall: recovered in"
    assert (recovered.after, recovered.verdict) == ("0.2 s", Verdict.BETTER)
    assert [(row.what, row.change) for row in crashed.recoveries] == [
        (OUTAGE, "only in on-time"),
        ("engine crash in waterfall", "only in crashed"),
    ]


def test_an_outage_the_target_refused_is_shown_not_judged(
    drills: dict[str, Report], tmp_path: Path
) -> None:
    refusal = "HTTP 409: redis_outage: the mock runs on a Redis of its own"
    refused = AppliedEvent(
        at=OUTAGE_AT,
        step="waterfall",
        event=RedisOutage(seconds=2),
        status="failed",
        detail=refusal,
    )
    unrehearsed = load_report(drill(tmp_path / "refused", events=[refused]).directory)

    assert compare(drills["on-time"], unrehearsed).recoveries == (
        Movement(
            OUTAGE,
            "recovered in 1.2 s",
            f"not rehearsed (failed: {refusal})",
            "",
            Verdict.UNJUDGED,
        ),
    )


def test_runs_without_outages_have_no_recovery_table(one_worker: Report) -> None:
    titles = [table.title for table in compare(one_worker, one_worker).tables()]

    assert not any(title.startswith("Outages") for title in titles)


def test_the_markdown_and_the_page_show_recovery_after_what_moved(
    drills: dict[str, Report],
) -> None:
    before, after = drills["on-time"], drills["late"]
    comparison = compare(before, after)
    markdown = comparison.markdown()
    line = f"| {RECOVERED} | 1.2 s | 3.0 s | +1.8 s (resolution ±0.2 s) | worse |"

    assert markdown.index("### What moved") < markdown.index("### Outages and recovery")
    assert line in markdown
    page = compare_html(comparison, before, after)
    assert (
        page.index("What moved")
        < page.index("Outages and recovery")
        < page.index("SLO values per step")
    )
