"""The load machine in the report: each step's busiest CPU, in the load table, and the
headline's caution where it came near saturation."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from loadtests.profiles import load_profile
from loadtests.report.build import load_report
from loadtests.report.capacity import Limit
from loadtests.report.render import read_report, to_html, to_markdown, write_report
from loadtests.report.schema import LOAD_MACHINE_BUSY_PCT
from loadtests.results import GeneratorSample, append_generator, read_run
from tests.report.conftest import ONE_WORKER

PEAK = "peak-minute"
CAUTION = "Load generator was the limit"


def _sample_load_machine(
    run: Path, busy: dict[str, tuple[float, float]], behind_free_s: dict[str, float] | None = None
) -> None:
    """Samples each second of the run (oct-2025 at its own scale: the peak minute is run seconds
    350 to 360), host at 40% and the runner at 20% except in the phases `busy` names, which get
    (host, runner), and behind its schedule with senders free only in the phases
    `behind_free_s` names; the sample of second 0, the lead-in, is as busy as can be and counts
    nowhere."""
    timeline = load_profile("oct-2025").timeline()
    append_generator(run, GeneratorSample(at=0.0, host_cpu=100.0, runner_cpu={"local": 100.0}))
    for second in range(1, int(timeline.duration) + 1):
        window = timeline.window_at(second - 0.5)
        assert window is not None
        host, runner = busy.get(window.name, (40.0, 20.0))
        behind = (behind_free_s or {}).get(window.name, 0.0)
        sample = GeneratorSample(
            at=second, host_cpu=host, runner_cpu={"local": runner}, behind_free_s=behind
        )
        append_generator(run, sample)


def test_each_step_carries_the_load_machines_busiest_and_the_table_shows_it(
    cascade_run: Path,
) -> None:
    _sample_load_machine(cascade_run, {PEAK: (97.0, 60.0)})

    report = load_report(cascade_run)

    assert [(step.name, step.host_cpu, step.generator_cpu) for step in report.steps] == [
        ("pre-event", 40.0, 20.0),
        ("waterfall", 40.0, 20.0),
        (PEAK, 97.0, 60.0),
        ("waterfall-tail", 40.0, 20.0),
        ("aftershock", 40.0, 20.0),
    ]
    markdown = to_markdown(report)
    assert "| served |  | host CPU | generator CPU | behind, senders free |" in markdown
    assert (
        f"| 2 | {PEAK} (generator-bound) | 357× | 2,500 | 3 | 0.12% |  | 97% | 60% | 0 ms |"
        in markdown
    )
    assert "Host CPU: every core of the machine the run was driven from" in markdown


def test_the_headline_cautions_where_the_host_saturated(cascade_run: Path) -> None:
    _sample_load_machine(cascade_run, {PEAK: (97.0, 60.0)})

    report = load_report(cascade_run)

    assert report.headline[0] == (
        "Load generator was the limit in peak-minute (357× the baseline, 2,500 req/s): host CPU "
        "97%, load generator 60%; latency and timeouts there are inconclusive, the load "
        "machine's own lag as much as the venue's; run the load from more cores or machines "
        "(--processes, distributed workers)"
    )
    assert sum(CAUTION in line for line in report.headline) == 1
    assert report.headline[0] in to_markdown(report)
    assert "the load machine&#x27;s own lag" in to_html(report)


def test_the_headline_cautions_where_free_senders_fell_behind(cascade_run: Path) -> None:
    _sample_load_machine(cascade_run, {}, behind_free_s={PEAK: 2.1})

    report = load_report(cascade_run)

    assert report.headline[0].startswith(
        "Load generator was the limit in peak-minute (357× the baseline, 2,500 req/s): host CPU "
        "40%, load generator 20%, 2.1 s behind with free senders; "
    )


def test_a_runner_at_the_threshold_is_enough_and_several_phases_make_one_line(
    cascade_run: Path,
) -> None:
    _sample_load_machine(
        cascade_run, {"waterfall": (70.0, LOAD_MACHINE_BUSY_PCT), PEAK: (96.0, 99.0)}
    )

    report = load_report(cascade_run)

    (line,) = (line for line in report.headline if CAUTION in line)
    assert line.startswith(
        "Load generator was the limit in waterfall (18.6× the baseline, 130 req/s) and 1 later "
        "phase: host CPU up to 96%, load generator up to 99%; "
    )


def test_no_caution_below_the_threshold(cascade_run: Path) -> None:
    just_under = LOAD_MACHINE_BUSY_PCT - 0.1
    _sample_load_machine(cascade_run, {PEAK: (just_under, just_under)})

    report = load_report(cascade_run)

    assert report.measured_load_machine
    assert report.steps[2].host_cpu == just_under
    assert not any(CAUTION in line for line in report.headline)


def test_a_run_from_before_load_machine_samples_still_loads_and_reports() -> None:
    run = read_run(ONE_WORKER)
    report = load_report(ONE_WORKER)

    assert run.generator == ()
    assert all(step.host_cpu is None and step.generator_cpu is None for step in report.steps)
    assert not report.measured_load_machine
    assert not any(CAUTION in line for line in report.headline)
    markdown = to_markdown(report)
    assert "| 4 | x20 | 20× | 140 | 139 | 99% | knee | — | — |" in markdown
    assert "Generator CPU:" not in markdown


@pytest.mark.parametrize("sampled", [False, True])
def test_a_report_json_from_before_load_machine_figures_still_reads(
    cascade_run: Path, tmp_path: Path, sampled: bool
) -> None:
    if sampled:
        _sample_load_machine(cascade_run, {PEAK: (97.0, 60.0)})
    path = write_report(load_report(cascade_run), tmp_path).json
    older = json.loads(path.read_text())
    for step in older["steps"]:
        del step["generator_cpu"], step["host_cpu"]
    path.write_text(json.dumps(older))

    steps = read_report(path).steps

    assert all(step.host_cpu is None and step.generator_cpu is None for step in steps)


def test_where_the_generator_was_cpu_bound_timeouts_are_inconclusive_not_the_venues(
    cascade_run: Path,
) -> None:
    # Half the peak minute's orders timed out, while the load machine's host CPU sat at 97%.
    _sample_load_machine(cascade_run, {PEAK: (97.0, 60.0)})

    report = load_report(cascade_run)

    timeouts = report.verdict("timeout_rate")
    assert timeouts.begins_at is None
    assert timeouts.line == (
        "Timeouts inconclusive in peak-minute (357× the baseline, 2,500 req/s): the load "
        "generator was CPU-bound (97%); give it more cores or workers"
    )
    assert report.steps[2].generator_bound
    assert "inconclusive: generator-bound" in to_markdown(report)


def test_free_senders_behind_beyond_the_tolerance_make_the_generator_the_limit(
    cascade_run: Path,
) -> None:
    # CPU never near saturation, but the load fell 2.1 s behind with senders free: the
    # generator could not keep its own schedule.
    _sample_load_machine(cascade_run, {}, behind_free_s={PEAK: 2.1, "waterfall": 0.4})

    report = load_report(cascade_run)

    assert [step.generator_bound for step in report.steps] == [False, False, True, False, False]
    assert report.verdict("timeout_rate").line.endswith(
        "the load generator fell 2.1 s behind with free senders; give it more cores or workers"
    )


def test_the_lag_tolerance_is_the_runs_own(cascade_run: Path) -> None:
    settings = cascade_run / "settings.json"
    settings.write_text(
        json.dumps({**json.loads(settings.read_text()), "generator_lag_tolerance": 3})
    )
    _sample_load_machine(cascade_run, {}, behind_free_s={PEAK: 2.1})

    report = load_report(cascade_run)

    assert not any(step.generator_bound for step in report.steps)
    assert report.verdict("timeout_rate").begins_at == 2


def test_capacity_leaves_out_the_top_steps_where_the_generator_was_the_limit(
    edited_run: Callable[..., Path], lenient_slo: Path
) -> None:
    """The one-worker ramp's knee at 20x is found from how 50x and 100x fell behind. Had the
    load machine been saturated in those two steps, they would say nothing about the venue:
    no knee, and what was served up to 20x is a lower bound, with the two steps named."""
    run = edited_run()
    timeline = load_profile(str(run / "profile.yaml")).timeline()
    top = {"x50", "x100"}
    for second in range(1, int(timeline.duration) + 1):
        window = timeline.window_at(second - 0.5)
        assert window is not None
        host = 99.0 if window.name in top else 40.0
        append_generator(run, GeneratorSample(at=second, host_cpu=host, runner_cpu={"local": 20.0}))

    report = load_report(run, lenient_slo)

    assert [step.generator_bound for step in report.steps] == [False] * 5 + [True] * 2
    assert report.saturation is not None and report.saturation.left_out == (5, 6)
    assert report.saturation.knee is None
    plan = report.capacity
    assert plan is not None and plan.limit is Limit.TESTED_RANGE and plan.lower_bound
    assert plan.sustainable_rate == pytest.approx(138.8)
    assert plan.ceiling_rate == plan.sustainable_rate
    assert "Steps 5 and 6 were left out of the capacity plan" in " ".join(plan.assumptions)
    assert report.headline[0].startswith("Load generator was the limit at 50×")
    knee = next(line for line in report.headline if line.startswith("Saturation knee"))
    assert knee == (
        "Saturation knee: not reached up to 20× (the highest step judged); every step judged "
        "was served; left out 50× and 100×, where the load generator was the limit"
    )


def test_a_ramp_the_generator_limited_at_every_step_plans_no_capacity(
    edited_run: Callable[..., Path],
) -> None:
    run = edited_run()
    duration = load_profile(str(run / "profile.yaml")).timeline().duration
    for second in range(1, int(duration) + 1):
        append_generator(run, GeneratorSample(at=second, host_cpu=99.0, runner_cpu={"local": 20.0}))

    report = load_report(run)

    assert report.saturation is None and report.capacity is None
    assert (
        "Saturation knee: not sought, as the load generator was the limit at every step"
        in report.headline
    )
    assert (
        "Capacity: not estimated, as the load generator was the limit at every step; run the "
        "load from more cores or machines"
    ) in report.headline
