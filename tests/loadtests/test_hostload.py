"""The load machine's samples: taken, written and read back with the run, and each step's
peaks."""

from __future__ import annotations

from pathlib import Path

from loadtests.hostload import GeneratorGauge, StepPeaks, step_peaks
from loadtests.metrics import Metrics
from loadtests.profiles import PerClass, Phase, Profile, load_profile
from loadtests.results import (
    GENERATOR_FILE,
    GeneratorSample,
    append_generator,
    finish_run,
    read_run,
    start_run,
)
from loadtests.sizing import ScheduleLag

ORIGIN = 1_760_130_000.0
EVEN = PerClass(orders=1, queries=1, market_data=1)


def _profile(*durations: float) -> Profile:
    """Steps of the given run seconds, named s0, s1..."""
    return Profile(
        name="steps",
        description="",
        baseline=EVEN,
        phases=tuple(
            Phase(name=f"s{index}", duration_s=duration, multipliers=EVEN)
            for index, duration in enumerate(durations)
        ),
    )


def _sample(at: float, host: float, **runners: float) -> GeneratorSample:
    return GeneratorSample(at=at, host_cpu=host, runner_cpu=runners)


def test_a_sample_holds_the_hosts_cpu_each_runners_and_the_lag_as_given() -> None:
    gauge = GeneratorGauge(
        lambda: {"worker-a": 41.5, "worker-b": 97.0}, lambda: ScheduleLag(0.2, 2.1)
    )

    sample = gauge.sample(3.0)

    assert sample.at == 3.0
    assert 0 <= sample.host_cpu <= 100
    assert sample.runner_cpu == {"worker-a": 41.5, "worker-b": 97.0}
    assert (sample.behind_waiting_s, sample.behind_free_s) == (0.2, 2.1)


def test_each_step_gets_the_furthest_the_load_fell_behind_each_way() -> None:
    samples = [
        _sample(0.0, 10.0),
        _sample(1.0, 10.0).model_copy(update={"behind_free_s": 0.3}),
        _sample(2.0, 10.0).model_copy(update={"behind_free_s": 2.5, "behind_waiting_s": 0.1}),
        _sample(3.0, 10.0).model_copy(update={"behind_waiting_s": 4.0}),
    ]

    peaks = step_peaks(samples, _profile(2, 1).timeline())

    assert [(p.behind_free_s, p.behind_waiting_s) for p in peaks] == [(2.5, 0.1), (0.0, 4.0)]


def test_each_step_gets_the_highest_host_and_runner_cpu_of_the_seconds_it_ran() -> None:
    samples = [
        _sample(0.0, 99.0, local=99.0),  # the lead-in before run second 0
        _sample(1.0, 30.0, local=20.0),
        _sample(2.0, 45.0, local=25.0),
        _sample(3.0, 92.0, local=70.0),
        _sample(4.0, 50.0, local=35.0),
    ]

    peaks = step_peaks(samples, _profile(2, 2, 1).timeline())

    assert peaks == [
        StepPeaks(runner_cpu=25.0, host_cpu=45.0, behind_free_s=0.0, behind_waiting_s=0.0),
        StepPeaks(runner_cpu=70.0, host_cpu=92.0, behind_free_s=0.0, behind_waiting_s=0.0),
        StepPeaks(runner_cpu=None, host_cpu=None),  # the run ended before a sample of it
    ]


def test_a_second_counts_in_every_step_it_overlaps_however_short() -> None:
    samples = [_sample(at, host) for at, host in ((0, 99.0), (1, 20.0), (2, 50.0), (3, 97.0))]
    timeline = _profile(1.5, 0.3, 1.2).timeline()

    peaks = step_peaks(samples, timeline)

    # The 0.3 s step (1.5 s to 1.8 s) lies within the second sampled at 2, which also ends the
    # first step and begins the last.
    assert [peak.host_cpu for peak in peaks] == [50.0, 50.0, 97.0]
    assert step_peaks(samples[::-1], timeline) == peaks


def test_the_busiest_runner_counts_and_a_master_without_workers_yet_has_none() -> None:
    samples = [_sample(0.0, 10.0), _sample(1.0, 20.0), _sample(2.0, 30.0, a=40.0, b=95.5)]

    first, second = step_peaks(samples, _profile(1, 1).timeline())

    assert (first.runner_cpu, first.host_cpu) == (None, 20.0)
    assert (second.runner_cpu, second.host_cpu) == (95.5, 30.0)


def test_generator_samples_are_appended_second_by_second_and_read_back(tmp_path: Path) -> None:
    profile = load_profile("step-ramp")
    start_run(tmp_path, profile, {})
    first, second = _sample(0.0, 12.5, local=3.0), _sample(1.0, 97.0, a=60.0, b=55.0)
    append_generator(tmp_path, first)
    append_generator(tmp_path, second)
    finish_run(tmp_path, Metrics(), profile.timeline(), origin=ORIGIN)

    assert read_run(tmp_path).generator == (first, second)
    assert len((tmp_path / GENERATOR_FILE).read_text().splitlines()) == 2


def test_a_run_from_before_generator_samples_reads_back_with_none(tmp_path: Path) -> None:
    profile = load_profile("step-ramp")
    start_run(tmp_path, profile, {})
    finish_run(tmp_path, Metrics(), profile.timeline(), origin=ORIGIN)

    run = read_run(tmp_path)

    assert not (tmp_path / GENERATOR_FILE).exists()
    assert run.generator == ()
    assert step_peaks(run.generator, run.profile.timeline()) == [
        StepPeaks(runner_cpu=None, host_cpu=None)
    ] * len(profile.phases)
