"""Time to recover, from a run with a known outage: orders refused for its 2 s, then held
until the exchange answers again 1.2 s after it ended, then fast."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.metrics import Outcome
from loadtests.profiles import CrashedRole, RedisOutage, RedisRestart, RoleCrash
from loadtests.report.build import load_report
from loadtests.report.recovery import recoveries, recovery_table
from loadtests.report.render import to_markdown
from loadtests.results import AppliedEvent
from tests.report.drill import BACK_AT, OUTAGE_AT, drill


def test_recovery_is_timed_from_the_first_order_answered_after_the_outage(tmp_path: Path) -> None:
    [recovery] = recoveries(drill(tmp_path), order_latency_ms=500)
    assert (recovery.step, recovery.outage) == ("waterfall", "the 2 s Redis outage")
    assert (recovery.began_s, recovery.ended_s) == (10.0, 12.0)
    assert recovery.disrupted_s == pytest.approx(10.0)
    assert recovery.succeeded_s == pytest.approx(BACK_AT)
    assert recovery.recovery_s == pytest.approx(1.2)
    assert recovery.kind == "redis_outage"
    # An order every tenth from 10.0 until it was seen back at 13.2 (33 of them counted, as
    # float tenths fall): how late the exchange's return could show.
    assert recovery.order_gap_s == pytest.approx(3.2 / 33)
    # Orders intended from 12.0 to 12.6 waited more than 500 ms: the outage's third second
    # broke the ceiling, the fourth (its slowest waited 200 ms) held it again.
    assert recovery.latency_held_s == pytest.approx(13.0)
    # Orders and queries refused for 2 s at ten a second each; the waiting ones succeeded.
    assert recovery.failed == {Outcome.UNAVAILABLE_503: 40}


def test_an_exchange_that_never_answers_again_did_not_recover(tmp_path: Path) -> None:
    [recovery] = recoveries(drill(tmp_path, back_at=None), order_latency_ms=500)
    assert not recovery.recovered and recovery.recovery_s is None
    assert recovery.failed == {Outcome.TIMEOUT_408: 360, Outcome.UNAVAILABLE_503: 40}


def test_the_report_and_its_headline_say_how_long_recovery_took(tmp_path: Path) -> None:
    report = load_report(drill(tmp_path).directory)
    line = (
        "Recovered in 1.2 s after the 2 s Redis outage in waterfall ended (3.2 s after it "
        "began); order latency within 500 ms again 3.0 s after it began; failed meanwhile: "
        "40 503 unavailable."
    )
    assert line in report.headline
    markdown = to_markdown(report)
    assert recovery_table(report.recoveries).markdown() in markdown
    assert "| 2 s Redis outage | waterfall | 10.0 s | 12.0 s | 10.0 s | 13.2 s | 1.2 s |" in (
        markdown
    )


def test_the_outage_begins_when_the_target_answered_the_driver(tmp_path: Path) -> None:
    """The driver's record, not the schedule: applied 0.5 s late, the outage is timed from
    then, and the refused crash after it is said not to have happened, with the refusal."""
    outage = RedisOutage(seconds=2)
    crash = RoleCrash(role=CrashedRole.ENGINE)
    refusal = "HTTP 400: role_crash: the engine runs in the process that serves the API"
    events = [
        AppliedEvent(at=OUTAGE_AT + 0.5, step="waterfall", event=outage, status="applied"),
        AppliedEvent(at=25.0, step="after", event=crash, status="failed", detail=refusal),
    ]
    run = drill(tmp_path, events=events)
    applied, refused = recoveries(run, order_latency_ms=500)
    assert (applied.began_s, applied.ended_s) == (10.5, 12.5)
    assert applied.recovery_s == pytest.approx(BACK_AT - 12.5)
    assert applied.failed == {Outcome.UNAVAILABLE_503: 30}
    assert refused.not_rehearsed == f"failed: {refusal}"
    assert (
        f"Not rehearsed: the engine crash in after (failed: {refusal})."
        in load_report(run.directory).headline
    )


def test_orders_the_next_outage_slowed_are_left_to_it(tmp_path: Path) -> None:
    """A restart at 14.0 holds the orders intended from 13.5 until 14.8: slow, but not the
    2 s outage's doing (which refused nothing here), so its latency held throughout; the
    restart is judged from its own beginning."""

    def answer(intended: float, back_at: float | None) -> tuple[Outcome, float]:
        return Outcome.SUCCESS, (14.8 if 13.5 <= intended < 14.0 else intended + 0.02)

    outage, restart = RedisOutage(seconds=2), RedisRestart(seconds=0)
    events = [
        AppliedEvent(at=OUTAGE_AT, step="waterfall", event=outage, status="applied"),
        AppliedEvent(at=14.0, step="waterfall", event=restart, status="applied"),
    ]
    first, second = recoveries(drill(tmp_path, events=events, answer=answer), 500)
    assert first.disrupted_s is None and first.latency_held_s is None
    assert second.began_s == 14.0 and second.latency_held_s is None


def test_a_crash_that_fails_nothing_but_holds_every_order_is_timed_too(tmp_path: Path) -> None:
    """The engine's process killed and back within the ack deadline: no order fails, each one
    waits until 13.5; the wait is the disruption, and the first answer after it the recovery."""

    def answer(intended: float, back_at: float | None) -> tuple[Outcome, float]:
        held = OUTAGE_AT <= intended < 13.5
        return Outcome.SUCCESS, (13.5 if held else intended + 0.02)

    crash = RoleCrash(role=CrashedRole.ENGINE)
    events = [AppliedEvent(at=OUTAGE_AT, step="waterfall", event=crash, status="applied")]
    run = drill(tmp_path, events=events, answer=answer)
    [recovery] = recoveries(run, order_latency_ms=500)
    assert recovery.disrupted_s == pytest.approx(10.0) and recovery.failed == {}
    assert recovery.recovery_s == pytest.approx(3.5)
    assert (
        "Recovered in 3.5 s after the engine crash in waterfall; order latency within 500 ms "
        "again 3.0 s after it began; failed meanwhile: none."
    ) in load_report(run.directory).headline
