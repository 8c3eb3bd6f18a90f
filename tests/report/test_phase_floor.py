"""The report states the phase floor a run held its phases at, and which phases it held: their
verdicts come from a slower clock than the time scale says."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.cli import DEMO_PROFILE, DEMO_SECONDS
from loadtests.metrics import Metrics
from loadtests.options import scaled_profile
from loadtests.profiles import load_profile
from loadtests.report.build import load_report
from loadtests.report.render import to_markdown
from loadtests.results import finish_run, start_run

DEMO_SCALE = 6_600 / 180
"""oct-2025's 6,600 event seconds in three minutes, as the demo runs it."""


def _run(tmp_path: Path, phase_floor: float) -> Path:
    profile = scaled_profile(
        load_profile("oct-2025"), baseline_scale=1, time_scale=DEMO_SCALE, phase_floor=phase_floor
    )
    directory = tmp_path / f"floor-{phase_floor:g}"
    start_run(directory, profile, {"phase_floor": phase_floor})
    finish_run(directory, Metrics(), profile.timeline(), origin=1_760_130_000.0)
    return directory


def test_the_run_section_names_the_phases_held_at_the_floor(tmp_path: Path) -> None:
    report = load_report(_run(tmp_path, 15))

    assert report.profile.timeline().duration == pytest.approx(180 - 60 / DEMO_SCALE + 15)
    assert (
        "| phase floor | 15 s, so a queue can settle within a phase: peak-minute ran 15 s, "
        "1.64 s by the time scale alone |"
    ) in to_markdown(report)


def test_without_a_floor_the_report_says_every_phase_was_compressed(tmp_path: Path) -> None:
    report = load_report(_run(tmp_path, 0))

    assert report.profile.timeline().duration == pytest.approx(180)
    assert "| phase floor | none: every phase compressed by the time scale |" in to_markdown(report)


def test_the_demos_load_stays_within_its_budget_with_the_floor() -> None:
    scale = load_profile(DEMO_PROFILE).timeline(1.0).duration / DEMO_SECONDS
    demo = scaled_profile(load_profile(DEMO_PROFILE), baseline_scale=1, time_scale=scale)

    assert [w.name for w in demo.timeline().floored] == ["peak-minute"]
    assert demo.timeline().duration < 195, "fresh clone to report within five minutes"
