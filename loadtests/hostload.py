"""How busy the load machine was: once a second, each Locust runner's CPU and its host's,
appended to the run's generator.jsonl, and the highest of each per step for the report.

On a small machine the load generator (and, against the embedded mock, the exchange) share the
CPU. Near saturation, latency measured from intended send times measures the load machine's own
lag as much as the venue's; Locust says so once in its log, this keeps it per step, where the
report's readers look.

The runners' figures are Locust's own (`Runner.current_cpu_usage`, which each worker reports to
the master with its heartbeat): percent of one core over Locust's last 10 s, so they lag the
load by up to that, and 0 in a runner's first 20 s (Locust's first reading has nothing to
measure from). The host's is every core of the machine of the process that owns the run, since
the sample before (a second, unless the sampler fell behind), so it catches a phase of a
second; workers on other machines show in their runners' figures only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import pairwise
from typing import NamedTuple

import psutil  # type: ignore[import-untyped]

from loadtests.profiles import Timeline
from loadtests.results import GeneratorSample
from loadtests.sizing import ScheduleLag

GENERATOR_LAG_TOLERANCE_S = 1.0
"""Seconds the load may fall behind its schedule with senders free before a step counts as the
generator's limit rather than the venue's: a few scheduling hiccups are noise, a second is a
generator short of CPU."""
LAG_TOLERANCE_SETTING = "generator_lag_tolerance"
"""The key settings.json records the run's tolerance under."""

RunnerCpu = Callable[[], Mapping[str, float]]
"""Each load-generating runner's CPU as Locust last measured it, by runner."""
Lag = Callable[[], ScheduleLag]
"""How far the load is behind its schedule now, waiting on the target or with senders free."""


def host_cpu() -> float:
    """The whole host's CPU in percent, every core, since the previous call in this thread
    (psutil keeps the start of the interval per thread; under gevent, per greenlet)."""
    return float(psutil.cpu_percent())


class GeneratorGauge:
    """Takes the load machine's samples; make it in the thread (or greenlet) that takes them,
    before the first, so that sample's host CPU covers the time since rather than nothing."""

    def __init__(self, runner_cpu: RunnerCpu, lag: Lag) -> None:
        self._runner_cpu = runner_cpu
        self._lag = lag
        host_cpu()

    def sample(self, at: float) -> GeneratorSample:
        """The sample of run second `at`, read now."""
        lag = self._lag()
        return GeneratorSample(
            at=at,
            host_cpu=host_cpu(),
            runner_cpu=dict(self._runner_cpu()),
            behind_waiting_s=lag.waiting_s,
            behind_free_s=lag.free_s,
        )


class StepPeaks(NamedTuple):
    """The load machine's busiest during one step; None where no sample measured the step."""

    runner_cpu: float | None
    """The highest CPU any one runner reported."""
    host_cpu: float | None
    behind_free_s: float | None = None
    """The furthest the load fell behind with senders free."""
    behind_waiting_s: float | None = None
    """The furthest it fell behind with senders waiting on the target."""


def step_peaks(samples: Sequence[GeneratorSample], timeline: Timeline) -> list[StepPeaks]:
    """Each step's peaks, in step order.

    A sample measures the time since the one before it, so it counts in every step that span
    overlaps: a phase shorter than a second still gets the samples that measured it. The first
    sample measures the lead-in before run second 0 and counts in none.
    """
    spans = list(pairwise(sorted(samples, key=lambda sample: sample.at)))
    peaks = []
    for window in timeline.windows:
        during = [
            sample
            for before, sample in spans
            if before.at < window.end and sample.at > window.start
        ]
        peaks.append(
            StepPeaks(
                runner_cpu=max(
                    (cpu for sample in during for cpu in sample.runner_cpu.values()), default=None
                ),
                host_cpu=max((sample.host_cpu for sample in during), default=None),
                behind_free_s=max((sample.behind_free_s for sample in during), default=None),
                behind_waiting_s=max((sample.behind_waiting_s for sample in during), default=None),
            )
        )
    return peaks
