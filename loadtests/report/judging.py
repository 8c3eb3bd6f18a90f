"""One run or a set of runs judged against the SLOs: every run's samples pooled for the
intervals, and, for a set, each run judged alone as well, to say where each found each
objective beginning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from loadtests.report.intervals import Estimate
from loadtests.report.samples import StepSamples, pooled
from loadtests.report.slo import SloEvaluation, SloResult, SloThresholds, evaluate

Estimator = Callable[[Sequence[StepSamples]], Mapping[str, Sequence[Estimate | None]]]
"""Every objective's value per step, with its interval, from the steps' samples."""


@dataclass(frozen=True, slots=True)
class Judged:
    evaluation: SloEvaluation
    """Every run's samples pooled; a step is generator-bound when it was in any run."""
    samples: tuple[StepSamples, ...]
    """Each step's samples, every run's added."""
    estimates: Mapping[str, Sequence[Estimate | None]]
    """The pooled values the evaluation judged."""
    alone: tuple[SloEvaluation, ...]
    """Each run judged alone, for a set of more than one; empty for one run."""

    def runs_begin_at(self, index: int) -> tuple[int | None, ...]:
        """Where each run alone found the `index`-th objective beginning."""
        return tuple(begins(run.results[index]) for run in self.alone)


def judge_runs(
    thresholds: SloThresholds,
    estimator: Estimator,
    runs: Sequence[Sequence[StepSamples]],
    generator_bound: Sequence[Sequence[bool]],
    multiples: Sequence[float],
    offered_rates: Sequence[float],
) -> Judged:
    """Judge `runs` (each its steps' samples, with the steps its generator limited) of one
    profile, whose steps lie at `multiples` and `offered_rates`."""

    def judged(
        estimates: Mapping[str, Sequence[Estimate | None]], bound: Sequence[bool]
    ) -> SloEvaluation:
        return evaluate(thresholds, estimates, multiples, offered_rates, bound)

    samples = pooled(runs)
    estimates = estimator(samples)
    evaluation = judged(estimates, [any(step) for step in zip(*generator_bound, strict=True)])
    alone = (
        tuple(
            judged(estimator(steps), bound)
            for steps, bound in zip(runs, generator_bound, strict=True)
        )
        if len(runs) > 1
        else ()
    )
    return Judged(evaluation, samples, estimates, alone)


def begins(result: SloResult) -> int | None:
    """The step at which an objective began to break; None when none broke it."""
    return None if result.breach is None else result.breach.step.index
