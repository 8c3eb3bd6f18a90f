"""Where on the load a step lies, in the words the headline and the SLO verdicts use.

On a ramp a step is its multiple and rate ("at 20× (100 orders/s)"); in a cascade, which has
phases rather than a rising load, it is the phase's name with its load.
"""

from __future__ import annotations

from collections.abc import Sequence

from loadtests.profiles import RequestClass
from loadtests.report.load_axis import offered_of
from loadtests.report.schema import LOAD_MACHINE_BUSY_PCT, StepLoad
from loadtests.report.units import cpu, listed, millis, multiple, rate
from loadtests.results import StepSummary

_RATE_UNITS = {RequestClass.ORDERS: "orders/s", RequestClass.QUERIES: "queries/s", None: "req/s"}
"""The unit a class's rate is worded in; None: the whole load's."""


class StepWords:
    """Where on the load a step lies, in the words of the headline."""

    def __init__(
        self,
        steps: Sequence[StepLoad],
        classes: dict[RequestClass, tuple[StepSummary, ...]],
        ramp: bool,
    ) -> None:
        self.steps = steps
        self.classes = classes
        self.ramp = ramp

    def at(self, index: int, klass: RequestClass | None = None) -> str:
        """Where step `index` lies, by `klass`'s load or the whole load's: "at 20× (100
        orders/s)" on a ramp, "in waterfall (11.1× orders, 55.5 orders/s)" in a cascade."""
        step = self.steps[index]
        if klass is None:
            load, offered = step.multiple, step.offered_rate
        else:
            load, offered = step.multipliers.of(klass), offered_of(self.classes[klass][index])
        unit = _RATE_UNITS[klass]
        if self.ramp:
            return f"at {multiple(load)} ({rate(offered, unit)})"
        whose = "the baseline" if klass is None else klass.value.replace("_", " ")
        return f"in {step.name} ({multiple(load)} {whose}, {rate(offered, unit)})"

    def where(self, index: int) -> str:
        """Step `index` in short: "at 20×", "in waterfall"."""
        step = self.steps[index]
        return f"at {step.label}" if self.ramp else f"in {step.name}"

    def generator_limit(self, index: int) -> str:
        """Why the load generator, not the venue, limited step `index`'s measurements: "the
        load generator was CPU-bound (94%) and fell 2.1 s behind with free senders"."""
        step = self.steps[index]
        busiest = max(
            (cpu for cpu in (step.host_cpu, step.generator_cpu) if cpu is not None), default=None
        )
        reasons = []
        if busiest is not None and busiest >= LOAD_MACHINE_BUSY_PCT:
            reasons.append(f"was CPU-bound ({cpu(busiest)})")
        if step.behind_free_s:
            reasons.append(f"fell {millis(step.behind_free_s * 1000)} behind with free senders")
        return f"the load generator {' and '.join(reasons)}; give it more cores or workers"

    def up_to(self, index: int) -> str:
        """As far as step `index`: "up to 20×", "up to waterfall (18.6× the baseline)"."""
        step = self.steps[index]
        if self.ramp:
            return f"up to {step.label}"
        return f"up to {step.name} ({multiple(step.multiple)} the baseline)"

    def among(self, indices: Sequence[int]) -> str:
        """Several steps in short: "at 50× and 100×", "in peak-minute and aftershock"."""
        if self.ramp:
            return f"at {listed([self.steps[i].label for i in indices])}"
        return f"in {listed([self.steps[i].name for i in indices])}"

    def highest(self) -> str:
        top = max(self.steps, key=lambda step: step.multiple)
        if self.ramp:
            return f"up to {multiple(top.multiple)} (the highest step)"
        return f"in any phase (up to {multiple(top.multiple)} the baseline, in {top.name})"
