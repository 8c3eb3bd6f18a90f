from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.report.build import load_report
from loadtests.report.compare import Comparison, Movement, Verdict, compare
from loadtests.report.schema import Report
from tests.fixtures.make_runs import RUNS, write_run

TIMEOUTS_BREAK_AT = "timeouts (408 / -1007, -1021, no answer) breaks at"
ORDERS_P99 = "order latency p99 (corrected)"


def _row(rows: tuple[Movement, ...], what: str) -> Movement:
    return next(row for row in rows if row.what == what)


@pytest.fixture(scope="module")
def scaled_out(one_worker: Report, two_workers: Report) -> Comparison:
    return compare(one_worker, two_workers)


def test_only_the_settings_that_differ_are_listed(scaled_out: Comparison) -> None:
    assert scaled_out.settings == (Movement("api_workers", "1", "2", "", Verdict.UNJUDGED),)


def test_a_knee_further_out_is_better_and_says_by_how_much(scaled_out: Comparison) -> None:
    assert _row(scaled_out.conclusions, "saturation knee") == Movement(
        "saturation knee", "20×", "50×", "+150%", Verdict.BETTER
    )


def test_capacity_held_by_the_projector_does_not_move_with_api_workers(
    scaled_out: Comparison,
) -> None:
    assert _row(scaled_out.conclusions, "capacity").verdict is Verdict.SAME
    assert _row(scaled_out.conclusions, "capacity set by") == Movement(
        "capacity set by", "stale position reads", "stale position reads", "", Verdict.SAME
    )


def test_an_slo_that_breaks_later_is_better_and_one_that_does_not_move_is_the_same(
    scaled_out: Comparison,
) -> None:
    timeouts = _row(scaled_out.conclusions, TIMEOUTS_BREAK_AT)
    stale = _row(scaled_out.conclusions, "stale position reads breaks at")

    assert (timeouts.before, timeouts.after, timeouts.verdict) == ("20×", "50×", Verdict.BETTER)
    assert (stale.before, stale.after, stale.verdict) == ("10×", "10×", Verdict.SAME)


def test_going_back_the_other_way_is_worse(one_worker: Report, two_workers: Report) -> None:
    backwards = compare(two_workers, one_worker)

    assert _row(backwards.conclusions, "saturation knee").verdict is Verdict.WORSE
    assert _row(backwards.values, ORDERS_P99 + " at 50×").verdict is Verdict.WORSE


def test_a_real_regression_is_worse_on_its_own_lines_and_nowhere_it_did_not_move(
    one_worker: Report, two_workers: Report
) -> None:
    # From two API workers back to one: timeouts begin at 20x instead of 50x, and orders at 50x
    # wait seconds instead of a few hundred milliseconds; the projector's stale reads and the
    # low steps' latency do not move.
    backwards = compare(two_workers, one_worker)

    timeouts = _row(backwards.conclusions, TIMEOUTS_BREAK_AT)
    assert (timeouts.before, timeouts.after, timeouts.verdict) == ("50×", "20×", Verdict.WORSE)
    assert _row(backwards.values, ORDERS_P99 + " at 50×").verdict is Verdict.WORSE
    assert _row(backwards.conclusions, "stale position reads breaks at").verdict is Verdict.SAME
    assert _row(backwards.values, ORDERS_P99 + " at 1×").verdict is Verdict.SAME


def test_p99s_are_compared_step_by_step_with_both_intervals(scaled_out: Comparison) -> None:
    orders = _row(scaled_out.values, ORDERS_P99 + " at 50×")

    assert orders.before.startswith("4.64 s (") and orders.after.startswith("438 ms (")
    assert (orders.change, orders.verdict) == ("−91%", Verdict.BETTER)


def test_the_same_set_up_run_again_is_within_noise_on_every_line(
    one_worker: Report, tmp_path: Path
) -> None:
    # The one-worker fixture drawn again from another seed: every latency resampled, every
    # step's p99 a little different, as two runs of one set-up are.
    again = tmp_path / "step-ramp-small-again"
    write_run(again, RUNS[0]._replace(seed=RUNS[0].seed + 100))

    rerun = compare(one_worker, load_report(again))

    moved = [row for row in (*rerun.conclusions, *rerun.values) if row.verdict is not Verdict.SAME]
    assert moved == []
    assert len(rerun.values) > 40
    assert any(row.before != row.after for row in rerun.values)


def test_ports_timestamps_run_directories_and_accounts_files_are_not_changes(
    one_worker: Report,
) -> None:
    def ran(port: int, origin: float, where: str) -> Report:
        settings = {
            **one_worker.settings,
            "target": f"http://127.0.0.1:{port}",
            "ws_host": f"ws://127.0.0.1:{port}",
            "origin": origin,
            "run_dir": f"runs/{where}",
            "accounts_file": f"{where}/accounts.json",
        }
        return one_worker.model_copy(update={"settings": settings})

    assert compare(ran(8000, 1.0e9, "a"), ran(41234, 1.1e9, "b")).settings == ()


def test_a_run_compared_with_itself_moved_nowhere(one_worker: Report) -> None:
    same = compare(one_worker, one_worker)

    assert same.settings == ()
    assert {row.verdict for row in (*same.conclusions, *same.values)} == {Verdict.SAME}


def test_onsets_of_runs_whose_steps_do_not_line_up_are_shown_not_judged(
    one_worker: Report, cascade_run: Path
) -> None:
    mixed = compare(one_worker, load_report(cascade_run))

    timeouts = _row(mixed.conclusions, TIMEOUTS_BREAK_AT)
    assert (timeouts.before, timeouts.after) == ("20×", "peak-minute")
    assert timeouts.verdict is Verdict.UNJUDGED
    assert _row(mixed.settings, "profile").after == "oct-2025"
    assert mixed.values == ()


def test_markdown_holds_a_table_per_question(scaled_out: Comparison) -> None:
    markdown = scaled_out.markdown()

    assert "### Settings changed: step-ramp-small → step-ramp-small-2workers" in markdown
    assert "| saturation knee | 20× | 50× | +150% | better |" in markdown
    assert "### SLO values per step (95% intervals)" in markdown


def test_an_audit_that_starts_failing_is_worse(one_worker: Report) -> None:
    assert one_worker.audit is not None
    failed = one_worker.model_copy(
        update={"audit": one_worker.audit.model_copy(update={"passed": False})}
    )

    audit = _row(compare(one_worker, failed).conclusions, "conservation audit")

    assert (audit.before, audit.after, audit.verdict) == ("PASS", "FAIL", Verdict.WORSE)
