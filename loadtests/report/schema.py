"""The capacity report's shape: one typed, frozen model of everything a report says.

`build.py` fills it from a run directory's files alone; the HTML, JSON and Markdown renderers
and `stampede compare` only format it, so they cannot disagree. It is pydantic, so report.json
reads back into it; fields added since the first reports have defaults, so older report.json
files stay readable.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, JsonValue

from loadtests.metrics import Percentiles
from loadtests.profiles import PerClass, Profile, RequestClass
from loadtests.report.bottleneck import ExchangeEvidence
from loadtests.report.capacity import CapacityPlan, ScaleOut
from loadtests.report.intervals import Estimate
from loadtests.report.knee import Saturation
from loadtests.report.recovery import Recovery
from loadtests.report.samples import StaleShare
from loadtests.report.slo import Bound, Judgement
from loadtests.results import ConservationAudit, ExchangeSample, MarketSample, StepSummary

LOAD_MACHINE_BUSY_PCT = 90.0
"""CPU (percent) from which a step's measurements include the load machine's own lag, for its
host or any one runner: where Locust warns that response times may be inconsistent. Not an SLO
(it judges the measurement, not the venue), so not in slo.yaml."""

_FROZEN = ConfigDict(extra="forbid", frozen=True)


class StepLoad(BaseModel):
    """One step on the load axis: how hard it pushed and how much was served."""

    model_config = _FROZEN

    index: int
    name: str
    label: str
    """How tables and plots name the step: its multiple on a ramp, its phase name otherwise."""
    multiple: float
    """Offered orders + queries over the baseline's: one load multiple, even for a mixed surge."""
    multipliers: PerClass
    offered_rate: float
    """Orders + queries per second the profile asked for."""
    served_rate: float
    """Orders + queries per second answered with a success or a rejection."""
    generator_cpu: float | None = None
    """The highest CPU (percent of one core) any Locust runner reported during the step."""
    host_cpu: float | None = None
    """The load machine's highest CPU (percent of every core) during the step. Both are None
    where not sampled; the defaults keep a report.json written before they were readable."""
    behind_free_s: float | None = None
    """The furthest the load fell behind its schedule with senders free (the generator's own
    lag); None where not sampled."""
    behind_waiting_s: float | None = None
    """The furthest it fell behind with most senders waiting on the target (the venue's)."""
    generator_bound: bool = False
    """Whether the load generator, not the venue, was the limit: its CPU near saturation, or
    behind with senders free by more than the run's tolerance. Latency and timeout verdicts
    there are inconclusive."""

    @property
    def load_machine_busy(self) -> bool:
        """Whether the load machine came near saturation in this step."""
        return cpu_busy(self.host_cpu, self.generator_cpu)


def cpu_busy(*cpus: float | None) -> bool:
    """Whether any of the load machine's CPU figures (host or runner) came near saturation."""
    return any(cpu is not None and cpu >= LOAD_MACHINE_BUSY_PCT for cpu in cpus)


class RateLimits(BaseModel):
    """The limits usage is measured against, by the peak's name in `loadtests.metrics`."""

    model_config = _FROZEN

    limits: dict[str, int]
    published: bool
    """True when the run recorded its target's limits; False when Binance's were assumed."""


class SloVerdict(BaseModel):
    """One objective over the whole run: where it first broke, and the sentence saying so."""

    model_config = _FROZEN

    metric: str
    label: str
    unit: str
    bound: Bound
    threshold: float
    begins_at: int | None
    """Index of the first step that broke it (its interval wholly beyond the threshold); None
    when none did."""
    value: float | None
    """The value at `begins_at`."""
    worst: float | None
    """None when no step measured it."""
    line: str
    judgements: tuple[Judgement, ...] = ()
    """Every step's verdict; the default keeps a report.json written before them readable."""
    estimates: tuple[Estimate | None, ...] = ()
    """Every step's value with its 95% interval; None where not measured."""
    runs_begin_at: tuple[int | None, ...] = ()
    """For a set of runs, where each run alone found it beginning; empty for one run."""

    @property
    def broken(self) -> bool:
        return self.begins_at is not None

    @property
    def measured(self) -> bool:
        return self.worst is not None


class Component(StrEnum):
    PROJECTOR = "projector"
    ENGINE_QUEUE = "engine queue"
    API_CONCURRENCY = "API concurrency"
    FEED_PUBLISHER = "feed publisher"


class Bottleneck(BaseModel):
    """A component a symptom points at, from the step the symptom began."""

    model_config = _FROZEN

    component: Component
    step: int
    evidence: str


class ScalePoint(BaseModel):
    """One run a scale-out fit went through: its API worker count and the rate it sustained."""

    model_config = _FROZEN

    run: str
    """The run directory's name."""
    api_workers: int
    sustainable_rate: float
    """Orders + queries per second at the run's knee, else at its best step."""


class Report(BaseModel):
    """Everything the capacity report says about one run."""

    model_config = _FROZEN

    run: str
    """The run directory's name (the set's, for a set of runs)."""
    runs: tuple[str, ...] = ()
    """For a set of runs, each run's directory name; the SLO verdicts pool them all. Empty for
    one run; the default keeps a report.json written before sets readable."""
    runs_planned: int | None = None
    """How many runs a set was asked for when Ctrl-C stopped it short of them; the report
    covers the runs that finished. None for a set that ran them all, and for one run."""
    profile: Profile
    settings: dict[str, JsonValue]
    ramp: bool
    """True when every step offers more than the one before: a knee and capacity can be read."""
    steps: tuple[StepLoad, ...]
    classes: dict[RequestClass, tuple[StepSummary, ...]]
    """Every step's row per request class, all symbols."""
    feed: tuple[StepSummary | None, ...]
    """Every step's liquidation-feed row, all symbols; None where the feed saw nothing."""
    depth: tuple[StepSummary | None, ...] = ()
    """Every step's diff depth stream row, all symbols; None where the stream was not
    followed. The default keeps a report.json written before it was measured readable."""
    metrics: dict[str, tuple[float | None, ...]]
    """The per-step series the SLOs judge, keyed by objective metric."""
    staleness: tuple[tuple[StaleShare, ...], ...] = ()
    """Per step, the share of probe reads stale by more than 0, 100 ms, 1 s and 10 s (empty
    without probe reads); the default keeps a report.json written before it readable."""
    stale_tolerance_ms: float | None = None
    """The age beyond which a stale read counts against the staleness SLO."""
    verdicts: tuple[SloVerdict, ...]
    saturation: Saturation | None
    capacity: CapacityPlan | None
    rate_limits: RateLimits
    rate_limit_usage: dict[str, tuple[float | None, ...]]
    """Per step, the highest usage any client saw as a share of its limit."""
    bottlenecks: tuple[Bottleneck, ...]
    """Earliest symptom first; the first is the likely bottleneck."""
    audit: ConservationAudit | None
    headline: tuple[str, ...]
    scale_out_runs: tuple[ScalePoint, ...] = ()
    """The runs the capacity plan's scale-out fit went through, fewest workers first; empty
    without one. The default keeps a report.json written before scale-out fits readable."""
    timeline: tuple[MarketSample, ...] = ()
    """The run's market, sampled each second (prices, liquidations true and on the feed);
    empty when it was not. The default keeps a report.json written before timelines readable."""
    exchange: tuple[ExchangeSample, ...] = ()
    """The mock exchange's own state, sampled each second; empty against a target without it
    (and in a report.json written before it was sampled)."""
    evidence: ExchangeEvidence | None = None
    """What `exchange` says held the load back; None without it."""
    recoveries: tuple[Recovery, ...] = ()
    """How the exchange came back from each outage the run rehearsed (`recovery.py`)."""

    def verdict(self, metric: str) -> SloVerdict:
        return next(verdict for verdict in self.verdicts if verdict.metric == metric)

    @property
    def broken(self) -> tuple[SloVerdict, ...]:
        return tuple(verdict for verdict in self.verdicts if verdict.broken)

    @property
    def measured_staleness(self) -> bool:
        """Whether any probe read was judged: runs without probe accounts have none."""
        return any(row.reads for row in self.classes[RequestClass.QUERIES])

    @property
    def measured_load_machine(self) -> bool:
        """Whether the load machine was sampled: runs from before it was have no figures."""
        return any(step.host_cpu is not None for step in self.steps)

    @property
    def measured_feed(self) -> bool:
        """Whether the liquidation feed saw anything: a step ramp without shocks may not."""
        return any(row is not None for row in self.feed)

    @property
    def measured_depth(self) -> bool:
        """Whether local books followed the depth stream: runs from before they did have
        no rows."""
        return any(row is not None for row in self.depth)

    @property
    def scale_out(self) -> ScaleOut | None:
        """The capacity plan's scale-out fit and verdict, when runs at other worker counts were
        given."""
        return None if self.capacity is None else self.capacity.scale_out


def by_step(
    classes: dict[RequestClass, tuple[StepSummary, ...]],
) -> list[tuple[StepSummary, ...]]:
    """Every class's row, step by step."""
    return list(zip(*classes.values(), strict=True))


def percentile(summary: Percentiles | None, name: str) -> float | None:
    """One percentile (`p50`, `p99`...) of a summary that may be missing."""
    return None if summary is None else float(getattr(summary, name))
