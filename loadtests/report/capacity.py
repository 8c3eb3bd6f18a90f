"""What today's set-up holds, and what a cascade-sized surge would need.

Today's capacity comes from a step ramp: the achieved rate at the saturation knee, lowered to
the last step that met every SLO when an objective broke first. A surge multiplies orders and
queries by different factors (October 10-11, 2025: about 100x orders, 1000x position queries),
so its rate is compared with that capacity in requests per second. Given a Universal
Scalability Law fit over runs at several API worker counts, the plan also says how many workers
would hold the surge, or that none would.

Steps where the load generator, not the venue, was the limit (`Saturation.left_out`) say
nothing about the venue: the knee, the plateau, the scale-out fit and the last step that held
every SLO are all taken from the other steps, and an assumption names the steps left out.

Every premise behind the numbers is returned as a sentence in `CapacityPlan.assumptions`, so
the report can print them next to the numbers they qualify.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from loadtests.report.knee import Saturation
from loadtests.report.slo import Objective, SloEvaluation
from loadtests.report.units import listed, num
from loadtests.report.usl import UslFit, fit_usl


@dataclass(frozen=True, slots=True)
class Baseline:
    """The 1x load: what a normal day offers, in requests per second."""

    order_rate: float
    query_rate: float

    def __post_init__(self) -> None:
        if min(self.order_rate, self.query_rate) < 0 or self.total <= 0:
            raise ValueError("baseline rates must be non-negative and not both zero")

    @property
    def total(self) -> float:
        return self.order_rate + self.query_rate


@dataclass(frozen=True, slots=True)
class Surge:
    """A surge as multiples of the baseline, separately for orders and queries."""

    order_multiple: float
    query_multiple: float

    def __post_init__(self) -> None:
        if min(self.order_multiple, self.query_multiple) <= 0:
            raise ValueError("surge multiples must be positive")

    def rate(self, baseline: Baseline) -> float:
        return self.order_multiple * baseline.order_rate + self.query_multiple * baseline.query_rate


OCTOBER_2025 = Surge(order_multiple=100, query_multiple=1000)
"""The cascade of October 10-11, 2025: order traffic ~100x normal, position queries ~1000x."""


class Limit(StrEnum):
    """What set today's capacity."""

    KNEE = "knee"
    """Achieved throughput stopped following offered load."""
    PLATEAU = "plateau"
    """The run fell behind without a clear knee; the best step achieved is all that is known."""
    TESTED_RANGE = "tested_range"
    """Nothing did: the run kept up at every step, so capacity is at least the top step."""
    SLO = "slo"
    """An objective broke before throughput saturated."""


@dataclass(frozen=True, slots=True)
class ScaleOut:
    fit: UslFit
    target_rate: float
    workers_needed: int | None
    """The fewest API workers predicted to hold the surge; None: unreachable by scaling out."""

    @property
    def reachable(self) -> bool:
        return self.workers_needed is not None

    @property
    def verdict(self) -> str:
        """The answer as the report prints it."""
        if self.workers_needed is not None:
            return f"{self.workers_needed} API workers would hold {num(self.target_rate)} req/s."
        peak = self.fit.peak_workers
        ceiling = num(self.fit.peak_throughput)
        limit = (
            f"throughput tops out at {ceiling} req/s near {num(peak)} workers"
            if peak is not None
            else f"throughput only approaches {ceiling} req/s however many are added"
        )
        return f"Unreachable by scaling out: {limit}, short of {num(self.target_rate)} req/s."


@dataclass(frozen=True, slots=True)
class CapacityPlan:
    sustainable_rate: float
    """Requests per second today's set-up holds."""
    sustainable_multiple: float
    """The same, as a multiple of the baseline."""
    sustainable_order_rate: float
    sustainable_query_rate: float
    ceiling_rate: float
    """The highest rate any step achieved: throughput past the knee, at growing latency."""
    limit: Limit
    limiting_slo: Objective | None
    surge_rate: float
    surge_multiple: float
    """The surge's total rate as one multiple of the baseline's."""
    headroom: float
    """Sustainable rate ÷ surge rate: at least 1 when today's set-up holds the surge."""
    scale_out: ScaleOut | None
    assumptions: tuple[str, ...]

    @property
    def lower_bound(self) -> bool:
        """True when the sustainable rate is only what was tested, not where the system gave."""
        return self.limit is Limit.TESTED_RANGE

    @property
    def holds(self) -> bool:
        return self.headroom >= 1


def plan_capacity(
    saturation: Saturation,
    baseline: Baseline,
    *,
    surge: Surge = OCTOBER_2025,
    slos: SloEvaluation | None = None,
    usl: UslFit | None = None,
) -> CapacityPlan:
    """Turn one step ramp's saturation (and, optionally, its SLO verdicts and a scale-out fit)
    into capacity numbers for `surge`.

    The rates in `saturation`, `slos` and `usl` must share one unit, the one `baseline` is in.
    """
    rate, limit, limiting_slo, why = _today(saturation, slos)
    multiple = rate / baseline.total
    surge_rate = surge.rate(baseline)
    scale_out = None if usl is None else ScaleOut(usl, surge_rate, usl.workers_for(surge_rate))
    assumptions = [
        _load_terms(baseline, surge, surge_rate),
        "The step ramp multiplies orders and queries alike, so a step's multiple is its "
        "offered rate over the 1x rate.",
        *_left_out_terms(saturation.left_out),
        why,
    ]
    if surge.order_multiple != surge.query_multiple:
        toward = "queries" if surge.query_multiple > surge.order_multiple else "orders"
        lean = max(surge.query_multiple, surge.order_multiple) / min(
            surge.query_multiple, surge.order_multiple
        )
        assumptions.append(
            "Orders and queries are counted alike, as requests per second; the surge's mix "
            f"leans {num(lean)}x further toward {toward} than the ramp's, so the comparison "
            "holds only as far as the two cost about the same to serve."
        )
    if scale_out is not None:
        assumptions.extend(_scale_out_terms(scale_out, limiting_slo))
    return CapacityPlan(
        sustainable_rate=rate,
        sustainable_multiple=multiple,
        sustainable_order_rate=multiple * baseline.order_rate,
        sustainable_query_rate=multiple * baseline.query_rate,
        ceiling_rate=saturation.plateau.achieved,
        limit=limit,
        limiting_slo=limiting_slo,
        surge_rate=surge_rate,
        surge_multiple=surge_rate / baseline.total,
        headroom=rate / surge_rate,
        scale_out=scale_out,
        assumptions=tuple(assumptions),
    )


def _today(
    saturation: Saturation, slos: SloEvaluation | None
) -> tuple[float, Limit, Objective | None, str]:
    """The rate today's set-up holds, what set it, and that reason as a sentence."""
    point = saturation.sustainable
    rate = point.achieved
    if saturation.knee is not None:
        limit = Limit.KNEE
        why = (
            f"Capacity is the rate achieved at the saturation knee (step {point.step}, "
            f"{num(point.offered)} req/s offered): past it, queues and latency grow."
        )
    elif saturation.falls_behind is None:
        limit = Limit.TESTED_RANGE
        judged = " it could judge" if saturation.left_out else ""
        why = (
            f"The run kept up at every step{judged}, so {num(rate)} req/s is a lower bound on "
            "capacity."
        )
    else:
        limit = Limit.PLATEAU
        why = (
            f"No clear knee: capacity is the highest rate achieved (step {point.step}), though "
            f"the run fell behind from step {saturation.falls_behind.step}."
        )
    if slos is None or (breach := slos.first_breach) is None:
        return rate, limit, None, why
    # The last step before the breach that the venue, not the generator, set: a step the
    # generator held back was offered less than its rate says, so it shows no rate held.
    held = next(
        (
            step
            for step in reversed(slos.steps[: breach.step.index])
            if step.index not in saturation.left_out
        ),
        None,
    )
    if held is None:
        before = (
            "The first step already broke"
            if breach.step.index == 0
            else f"Every step before step {breach.step.index} was generator-bound, and it broke"
        )
        return (
            0.0,
            Limit.SLO,
            breach.objective,
            f"{before} the {breach.objective.label} SLO: no tested rate held.",
        )
    if held.offered_rate >= rate:
        return rate, limit, None, why
    return (
        held.offered_rate,
        Limit.SLO,
        breach.objective,
        f"Capacity is the offered rate of step {held.index}, the last before "
        f"{breach.objective.label} broke its SLO at step {breach.step.index}.",
    )


def fit_scale_out(runs: Mapping[int, Saturation]) -> UslFit:
    """A USL fit over step ramps run at different API worker counts (keyed by that count), each
    judged by its sustainable rate, the same measure `plan_capacity` compares with a surge."""
    workers = sorted(runs)
    return fit_usl(workers, [runs[count].sustainable.achieved for count in workers])


def _left_out_terms(left_out: Sequence[int]) -> list[str]:
    if not left_out:
        return []
    which = (
        f"Step {left_out[0]} was"
        if len(left_out) == 1
        else f"Steps {listed([str(i) for i in left_out])} were"
    )
    return [
        f"{which} left out of the capacity plan: the load generator, not the venue, was the "
        "limit there (its CPU near saturation, or behind its schedule with senders free), so "
        "what such a step served measures the load machine. Run the load from more cores or "
        "machines to judge those loads."
    ]


def _load_terms(baseline: Baseline, surge: Surge, surge_rate: float) -> str:
    return (
        f"1x is {num(baseline.order_rate)} orders/s and {num(baseline.query_rate)} "
        f"queries/s; the surge is {num(surge.order_multiple)}x orders and "
        f"{num(surge.query_multiple)}x queries, {num(surge_rate)} req/s in all."
    )


def _scale_out_terms(scale_out: ScaleOut, limiting_slo: Objective | None) -> list[str]:
    fit = scale_out.fit
    counts = ", ".join(str(count) for count in fit.workers_measured)
    terms = [
        f"Scaling out follows the Universal Scalability Law fitted over runs at {counts} API "
        f"workers (λ {num(fit.lambda_)} req/s, σ {fit.sigma:.3g}, κ {fit.kappa:.3g}, "
        f"R² {fit.r_squared:.3f}); only the API worker count changes."
    ]
    needed = scale_out.workers_needed
    if needed is not None and needed > fit.workers_measured[-1]:
        terms.append(
            f"{needed} workers lies beyond the {fit.workers_measured[-1]} measured: the law is "
            "assumed to hold there."
        )
    if limiting_slo is not None:
        terms.append(
            "Workers are counted by each run's sustainable throughput, not by the SLOs: "
            f"{limiting_slo.label} broke first here, and more API workers need not mend it."
        )
    return terms
