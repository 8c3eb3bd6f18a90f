"""The capacity report as one typed model, built from a run directory's files alone.

`build_report` turns what `loadtests.results` wrote into the numbers the report math judges
(the SLO series, offered and served rates per step), runs the math (saturation knee, SLO
verdicts, capacity plan) and words the answers once. The HTML, JSON and Markdown renderers and
`stampede compare` only format this model, so they cannot disagree; it is pydantic, so
report.json reads back into it.

Two choices shape every rate in it:
- The load axis counts orders and position queries: the classes a surge is defined by
  (`Baseline`, `Surge`). Market-data reads run alongside at the same multiples, and are judged
  by the SLOs on every request, but are left out of req/s, so a step's multiple and the surge's
  are in one unit.
- The knee is found on *served* requests: successes plus rejections. A rejected order (margin,
  precision) is the exchange deciding, which is work done; counting only successes would make a
  steady share of rejections look like falling behind.

Given runs of a step ramp at other API worker counts, the report fits the Universal Scalability
Law through every run's sustainable rate (each measured as this run's is) and sizes the surge in
workers; the runs are recorded with it, so the fit can be checked against what was measured.

Against the mock, the bottleneck is named from the exchange's own state, sampled each second
(`bottleneck.py`): the component whose backlog grew, with the numbers that show it. Against a
target without that telemetry it is a heuristic and is worded as one: it reads which symptom
began first (journal lag, order 408s with fast reads, 503s or timeouts while order 408s hold,
feed lag), and says so. Where a latency SLO broke and nothing points at a component, the line
says what was seen rather than "none".

Each step also records how busy the load machine was (its host's CPU, and its busiest Locust
runner's), and the headline cautions where that came near saturation: there the measurements
include the load machine's own lag.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from enum import StrEnum
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, JsonValue, TypeAdapter, ValidationError

from loadtests.feedwatch import FEED
from loadtests.hostload import (
    GENERATOR_LAG_TOLERANCE_S,
    LAG_TOLERANCE_SETTING,
    StepPeaks,
    step_peaks,
)
from loadtests.metrics import (
    ORDER_COUNT_1M,
    ORDER_COUNT_10S,
    USED_WEIGHT_1M,
    Outcome,
    Percentiles,
)
from loadtests.profiles import PerClass, Profile, RequestClass
from loadtests.report.bottleneck import ExchangeEvidence, exchange_evidence
from loadtests.report.capacity import (
    OCTOBER_2025,
    Baseline,
    CapacityPlan,
    ScaleOut,
    Surge,
    fit_scale_out,
    plan_capacity,
)
from loadtests.report.intervals import Estimate
from loadtests.report.judging import judge_runs
from loadtests.report.knee import KneeStatus, Saturation, find_saturation
from loadtests.report.recovery import Recovery, headline_line, recoveries
from loadtests.report.samples import StaleShare, StepSamples, step_samples
from loadtests.report.slo import (
    Bound,
    Judgement,
    SloResult,
    SloThresholds,
    begins_at,
)
from loadtests.report.units import estimate_text, measure, millis, multiple, num, rate, share, span
from loadtests.report.usl import UslFit
from loadtests.results import (
    ConservationAudit,
    ExchangeSample,
    MarketSample,
    ResultsError,
    RunResult,
    StepSummary,
    read_run,
)
from loadtests.run_set import is_run_set, read_set

LOAD_CLASSES = (RequestClass.ORDERS, RequestClass.QUERIES)
"""The classes the load axis counts: those a surge multiplies."""
SERVED = (Outcome.SUCCESS, Outcome.REJECTED)
RATE_LIMITED = (Outcome.RATE_LIMITED_429, Outcome.BANNED_418)
WAITED_OUT = (Outcome.EXPIRED_1021, Outcome.CLIENT_TIMEOUT)
"""Timeouts that are not the engine's: past the recvWindow on the way in (-1021), or past the
client's patience (no answer)."""
TIMED_OUT = (Outcome.TIMEOUT_408, *WAITED_OUT)
"""What `timeout_rate` counts: requests that ran out of time by any deadline, the engine's ack
(408 / -1007) included."""
UNAVAILABLE = (Outcome.UNAVAILABLE_503, Outcome.UNAVAILABLE_503_UNKNOWN)
ERRORS = (*UNAVAILABLE, Outcome.THROTTLED_1008, Outcome.CONNECTION_ERROR, Outcome.OTHER)
"""What `error_rate` counts: failures that are neither timeouts nor rate limiting, so no
request counts against two objectives."""

JOURNAL_LAG_GROWTH = 10
"""Journal lag at this many times its first step's counts as growing: a read model that keeps
up stays within a few events of the journal at any load."""

LOAD_MACHINE_BUSY_PCT = 90.0
"""CPU (percent) from which a step's measurements include the load machine's own lag, for its
host or any one runner: where Locust warns that response times may be inconsistent. Not an SLO
(it judges the measurement, not the venue), so not in slo.yaml."""

BINANCE_LIMITS = {USED_WEIGHT_1M: 2400, ORDER_COUNT_10S: 300, ORDER_COUNT_1M: 1200}
"""Binance USDⓈ-M Futures' published limits, assumed when a run did not record its target's."""
_LIMIT_KEYS = {
    ("REQUEST_WEIGHT", "MINUTE", 1): USED_WEIGHT_1M,
    ("ORDERS", "SECOND", 10): ORDER_COUNT_10S,
    ("ORDERS", "MINUTE", 1): ORDER_COUNT_1M,
}
_PEAKS: dict[str, Callable[[StepSummary], int | None]] = {
    USED_WEIGHT_1M: lambda row: row.used_weight_max,
    ORDER_COUNT_10S: lambda row: row.order_count_10s_max,
    ORDER_COUNT_1M: lambda row: row.order_count_1m_max,
}

_FROZEN = ConfigDict(extra="forbid", frozen=True)


class _Wording(NamedTuple):
    subject: str
    verb: str
    klass: RequestClass | None
    """The class whose load locates a breach; None: the whole load."""


_WORDING = {
    "order_latency_p99_ms": _Wording("Order latency SLO", "broken", RequestClass.ORDERS),
    "query_latency_p99_ms": _Wording("Query latency SLO", "broken", RequestClass.QUERIES),
    "timeout_rate": _Wording("Timeouts", "begin", None),
    "stale_read_rate": _Wording("Stale reads", "begin", RequestClass.QUERIES),
    "stale_age_p99_ms": _Wording("Stale-read age SLO", "broken", RequestClass.QUERIES),
    "rate_limited_rate": _Wording("Rate limiting", "begins", None),
    "feed_lag_p99_ms": _Wording("Feed lag SLO", "broken", None),
    "feed_completeness": _Wording("Feed completeness SLO", "broken", None),
    "error_rate": _Wording("Errors", "begin", None),
}
HEADLINE_SLOS = (
    "timeout_rate",
    "stale_read_rate",
    "rate_limited_rate",
    "order_latency_p99_ms",
    "feed_lag_p99_ms",
)
"""The objectives the headline always names, broken or not; the rest are in the SLO table."""
LATENCY_SLOS = ("order_latency_p99_ms", "query_latency_p99_ms", "timeout_rate")
"""The objectives of waiting: while one breaks, the bottleneck line says what was seen."""

_RATE_UNITS = {RequestClass.ORDERS: "orders/s", RequestClass.QUERIES: "queries/s", None: "req/s"}


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
        return _cpu_busy(self.host_cpu, self.generator_cpu)


def _cpu_busy(*cpus: float | None) -> bool:
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


class _PublishedLimit(BaseModel):
    """One entry of a Binance exchangeInfo `rateLimits` list, as settings.json records it."""

    model_config = ConfigDict(frozen=True)

    # Binance's field names, so the list reads exactly as exchangeInfo publishes it.
    rateLimitType: str
    interval: str
    intervalNum: int
    limit: int


_PUBLISHED_LIMITS = TypeAdapter(list[_PublishedLimit])


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
    profile: Profile
    settings: dict[str, JsonValue]
    ramp: bool
    """True when every step offers more than the one before: a knee and capacity can be read."""
    steps: tuple[StepLoad, ...]
    classes: dict[RequestClass, tuple[StepSummary, ...]]
    """Every step's row per request class, all symbols."""
    feed: tuple[StepSummary | None, ...]
    """Every step's liquidation-feed row, all symbols; None where the feed saw nothing."""
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
    def scale_out(self) -> ScaleOut | None:
        """The capacity plan's scale-out fit and verdict, when runs at other worker counts were
        given."""
        return None if self.capacity is None else self.capacity.scale_out


def load_report(
    directory: Path,
    slo: Path | None = None,
    *,
    surge: Surge = OCTOBER_2025,
    scale_out: Sequence[Path] = (),
) -> Report:
    """The report of the run in `directory` (or of the set of runs there, pooled), judged by
    the shipped SLOs with `slo` laid over; `scale_out` names runs of a step ramp at other API
    worker counts to size the surge in workers with."""
    first, *repeats = read_set(directory) if is_run_set(directory) else (read_run(directory),)
    report = build_report(
        first,
        SloThresholds.load(slo),
        surge=surge,
        scale_out=[read_run(other) for other in scale_out],
        repeats=repeats,
    )
    return report.model_copy(update={"run": directory.name}) if repeats else report


def build_report(
    run: RunResult,
    thresholds: SloThresholds,
    *,
    surge: Surge = OCTOBER_2025,
    scale_out: Sequence[RunResult] = (),
    repeats: Sequence[RunResult] = (),
) -> Report:
    """Judge a run read back from its directory against `thresholds`, and size it for `surge`,
    in API workers too when `scale_out` holds runs at other worker counts.

    `repeats` are further runs of the same profile: the SLO verdicts pool every run's samples,
    and say where each run alone found each objective beginning; the load, latency and feed
    tables are the first run's.

    Raises `ResultsError` when steps.jsonl lacks a request class's row for a step: a run that
    finished writes one for every step, measured or not. Raises `ValueError`, naming the run,
    when a run to fit has no api_workers in settings.json or is not a step ramp, when two ran
    at one worker count, or when fewer than three counts are given.
    """
    baseline, classes, steps, ramp, saturation = _load_axis(run)
    feed = tuple(_row(run.steps, FEED, index) for index in range(len(steps)))
    scale_out_runs: tuple[ScalePoint, ...] = ()
    usl = None
    if scale_out:
        others = [(other, _load_axis(other).saturation) for other in scale_out]
        scale_out_runs, usl = _scale_out([(run, saturation), *others])
    judged = judge_runs(
        thresholds,
        lambda samples: _slo_estimates(samples, thresholds),
        [step_samples(one) for one in (run, *repeats)],
        [
            [step.generator_bound for step in loads]
            for loads in (steps, *(_load_axis(other).steps for other in repeats))
        ],
        [s.multiple for s in steps],
        [s.offered_rate for s in steps],
    )
    evaluation = judged.evaluation
    metrics = {
        metric: tuple(None if value is None else value.value for value in values)
        for metric, values in judged.estimates.items()
    }
    words = _Words(steps, classes, ramp)
    verdicts = tuple(
        _verdict(words, result, thresholds, judged.runs_begin_at(index))
        for index, result in enumerate(evaluation.results)
    )
    capacity = None
    if saturation is not None:
        capacity = plan_capacity(saturation, baseline, surge=surge, slos=evaluation, usl=usl)
        capacity = dataclasses.replace(
            capacity, assumptions=(*capacity.assumptions, *_REPORT_ASSUMPTIONS)
        )
    rate_limits = _rate_limits(run.settings)
    usage = {
        name: tuple(_usage(_PEAKS[name], rows, limit) for rows in by_step(classes))
        for name, limit in rate_limits.limits.items()
    }
    verdict_of = {verdict.metric: verdict for verdict in verdicts}
    bottlenecks = _bottlenecks(words, classes, metrics, verdict_of, thresholds)
    timeline = run.profile.timeline()
    evidence = exchange_evidence(run.exchange, timeline, lambda index: steps[index].label)
    recovered = recoveries(run, thresholds.order_latency_p99_ms)
    headline = (
        *_load_machine_line(words),
        *(verdict_of[metric].line for metric in HEADLINE_SLOS),
        *(headline_line(recovery) for recovery in recovered),
        _knee_line(words, saturation),
        _capacity_line(words, capacity, verdict_of, surge),
        *_scale_out_line(capacity),
        _bottleneck_line(bottlenecks, evidence, verdicts),
        _audit_line(run.audit),
    )
    return Report(
        run=run.directory.name,
        runs=tuple(one.directory.name for one in (run, *repeats)) if repeats else (),
        profile=run.profile,
        settings=run.settings,
        ramp=ramp,
        steps=steps,
        classes=classes,
        feed=feed,
        metrics=metrics,
        staleness=tuple(step.stale_shape() for step in judged.samples),
        stale_tolerance_ms=thresholds.stale_tolerance_ms,
        verdicts=verdicts,
        saturation=saturation,
        capacity=capacity,
        rate_limits=rate_limits,
        rate_limit_usage=usage,
        bottlenecks=bottlenecks,
        audit=run.audit,
        headline=headline,
        scale_out_runs=scale_out_runs,
        timeline=run.timeline,
        exchange=run.exchange,
        evidence=evidence,
        recoveries=recovered,
    )


_REPORT_ASSUMPTIONS = (
    "Rates count orders and position queries; market-data reads ran alongside at the same "
    "multiples and are not counted in them.",
    "A step's served rate counts successes and rejections (margin, precision): a rejection is "
    "the exchange deciding, not falling behind.",
)


class _LoadAxis(NamedTuple):
    """A run's steps on the load axis and, on a ramp, where it saturated."""

    baseline: Baseline
    classes: dict[RequestClass, tuple[StepSummary, ...]]
    steps: tuple[StepLoad, ...]
    ramp: bool
    """True when every step offers more than the one before."""
    saturation: Saturation | None
    """None unless `ramp`."""


def _load_axis(run: RunResult) -> _LoadAxis:
    """Read once, for the report's run and for each run a scale-out fit goes through, so every
    run's sustainable rate is measured the same way."""
    count = len(run.profile.phases)
    classes = {klass: _class_rows(run.steps, klass, count) for klass in RequestClass}
    baseline = Baseline(run.profile.baseline.orders, run.profile.baseline.queries)
    offered = [sum(_offered(classes[k][i]) for k in LOAD_CLASSES) for i in range(count)]
    ramp = len(offered) > 1 and all(later > earlier for earlier, later in pairwise(offered))
    peaks = step_peaks(run.generator, run.profile.timeline())
    tolerance = run.settings.get(LAG_TOLERANCE_SETTING)
    lag_tolerance = (
        float(tolerance) if isinstance(tolerance, int | float) else GENERATOR_LAG_TOLERANCE_S
    )
    steps = tuple(
        _step(index, classes, offered[index], baseline, ramp, peaks[index], lag_tolerance)
        for index in range(count)
    )
    saturation = find_saturation(offered, [s.served_rate for s in steps]) if ramp else None
    return _LoadAxis(baseline, classes, steps, ramp, saturation)


def _row(rows: Sequence[StepSummary], series: str, index: int) -> StepSummary | None:
    """Step `index`'s row of `series` covering every symbol."""
    return next(
        (row for row in rows if (row.series, row.index, row.symbol) == (series, index, None)),
        None,
    )


def _class_rows(
    rows: Sequence[StepSummary], klass: RequestClass, count: int
) -> tuple[StepSummary, ...]:
    found = []
    for index in range(count):
        row = _row(rows, klass.value, index)
        if row is None:
            raise ResultsError(f"steps.jsonl has no {klass.value} row for step {index}")
        found.append(row)
    return tuple(found)


def _offered(row: StepSummary) -> float:
    return row.offered_rate or 0.0


def _scale_out(
    runs: Sequence[tuple[RunResult, Saturation | None]],
) -> tuple[tuple[ScalePoint, ...], UslFit]:
    """Each run's place on the scale-out curve, and the USL fitted through them.

    Two runs at one worker count are refused rather than both fitted: which of them to trust
    is the user's call.
    """
    placed: dict[int, tuple[str, Saturation]] = {}
    for run, saturation in runs:
        name = run.directory.name
        workers = run.settings.get("api_workers")
        if type(workers) is not int or workers < 1:
            found = "has no api_workers" if workers is None else f"has api_workers {workers!r}"
            raise ValueError(
                f"{name}: settings.json {found}; a scale-out fit places each run by its API "
                "worker count, a whole number from 1"
            )
        if saturation is None:
            raise ValueError(
                f"{name} is not a step ramp, so it has no sustainable rate to fit scale-out to"
            )
        if workers in placed:
            raise ValueError(
                f"{placed[workers][0]} and {name} ran at the same API worker count ({workers}): "
                "a scale-out fit takes one run per count"
            )
        placed[workers] = (name, saturation)
    fit = fit_scale_out({workers: saturation for workers, (_, saturation) in placed.items()})
    points = tuple(
        ScalePoint(run=name, api_workers=workers, sustainable_rate=saturation.sustainable.achieved)
        for workers, (name, saturation) in sorted(placed.items())
    )
    return points, fit


def _step(
    index: int,
    classes: dict[RequestClass, tuple[StepSummary, ...]],
    offered: float,
    baseline: Baseline,
    ramp: bool,
    peaks: StepPeaks,
    lag_tolerance: float,
) -> StepLoad:
    rows = [classes[klass][index] for klass in LOAD_CLASSES]
    first = rows[0]
    served = sum(row.outcomes[outcome] for row in rows for outcome in SERVED)
    load = offered / baseline.total
    return StepLoad(
        index=index,
        name=first.step,
        label=multiple(load) if ramp else first.step,
        multiple=load,
        multipliers=first.multipliers_end,
        offered_rate=offered,
        served_rate=served / (first.end - first.start),
        generator_cpu=peaks.runner_cpu,
        host_cpu=peaks.host_cpu,
        behind_free_s=peaks.behind_free_s,
        behind_waiting_s=peaks.behind_waiting_s,
        generator_bound=(
            _cpu_busy(peaks.host_cpu, peaks.runner_cpu)
            or (peaks.behind_free_s or 0.0) > lag_tolerance
        ),
    )


def by_step(
    classes: dict[RequestClass, tuple[StepSummary, ...]],
) -> list[tuple[StepSummary, ...]]:
    """Every class's row, step by step."""
    return list(zip(*classes.values(), strict=True))


def cpu(percent: float) -> str:
    """A CPU figure as the report prints it: 97%, 4.5%."""
    return share(percent / 100)


def percentile(summary: Percentiles | None, name: str) -> float | None:
    """One percentile (`p50`, `p99`...) of a summary that may be missing."""
    return None if summary is None else float(getattr(summary, name))


def _p99(summary: Percentiles | None) -> float | None:
    return percentile(summary, "p99")


def _share(rows: Sequence[StepSummary], outcomes: Sequence[Outcome]) -> float | None:
    requests = sum(row.requests for row in rows)
    if not requests:
        return None
    return sum(row.outcomes[outcome] for row in rows for outcome in outcomes) / requests


def _slo_estimates(
    samples: Sequence[StepSamples], thresholds: SloThresholds
) -> dict[str, tuple[Estimate | None, ...]]:
    """Every objective's value per step, with its 95% interval."""
    judged: dict[str, Callable[[StepSamples], Estimate | None]] = {
        "order_latency_p99_ms": lambda step: step.p99_ms(RequestClass.ORDERS),
        "query_latency_p99_ms": lambda step: step.p99_ms(RequestClass.QUERIES),
        "timeout_rate": lambda step: step.share(TIMED_OUT),
        "stale_read_rate": lambda step: step.stale_beyond(thresholds.stale_tolerance_ms),
        "stale_age_p99_ms": StepSamples.stale_age_p99_ms,
        "rate_limited_rate": lambda step: step.share(RATE_LIMITED),
        "feed_lag_p99_ms": StepSamples.feed_lag_p99_ms,
        "feed_completeness": StepSamples.feed_completeness,
        "error_rate": lambda step: step.share(ERRORS),
    }
    return {metric: tuple(map(value, samples)) for metric, value in judged.items()}


def _rate_limits(settings: dict[str, JsonValue]) -> RateLimits:
    try:
        published = _PUBLISHED_LIMITS.validate_python(settings.get("rate_limits", []))
    except ValidationError as exc:
        raise ResultsError(f"settings.json rate_limits: {exc}") from exc
    found = {
        _LIMIT_KEYS[key]: policy.limit
        for policy in published
        if (key := (policy.rateLimitType, policy.interval, policy.intervalNum)) in _LIMIT_KEYS
    }
    return RateLimits(limits=BINANCE_LIMITS | found, published=bool(found))


def _usage(
    peak: Callable[[StepSummary], int | None], rows: Sequence[StepSummary], limit: int
) -> float | None:
    seen = [value for row in rows if (value := peak(row)) is not None]
    return max(seen) / limit if seen else None


class _Words:
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
            load, offered = step.multipliers.of(klass), _offered(self.classes[klass][index])
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

    def highest(self) -> str:
        top = max(self.steps, key=lambda step: step.multiple)
        if self.ramp:
            return f"up to {multiple(top.multiple)} (the highest step)"
        return f"in any phase (up to {multiple(top.multiple)} the baseline, in {top.name})"


def _verdict(
    words: _Words,
    result: SloResult,
    thresholds: SloThresholds,
    runs_begin_at: tuple[int | None, ...] = (),
) -> SloVerdict:
    objective = result.objective
    breach = result.breach
    return SloVerdict(
        metric=objective.metric,
        label=objective.label,
        unit=objective.unit,
        bound=objective.bound,
        threshold=result.threshold,
        begins_at=None if breach is None else breach.step.index,
        value=None if breach is None else breach.value.value,
        worst=result.worst,
        line=_verdict_line(words, result, thresholds) + _agreement(words, runs_begin_at),
        judgements=result.judgements,
        estimates=result.estimates,
        runs_begin_at=runs_begin_at,
    )


def _agreement(words: _Words, runs_begin_at: Sequence[int | None]) -> str:
    """Where the runs of a set, each alone, found an objective beginning, and how many agree:
    "; each run alone: 50× in 2 of 3, 20× in 1 of 3"; nothing for one run."""
    if not runs_begin_at:
        return ""
    total = len(runs_begin_at)
    found = Counter(runs_begin_at).most_common()
    places = ", ".join(
        f"{'not reached' if index is None else words.steps[index].label} in {count} of {total}"
        for index, count in found
    )
    return f"; each run alone: {places}"


def _verdict_line(words: _Words, result: SloResult, thresholds: SloThresholds) -> str:
    """The objective in a sentence: where it broke, else where it was inconclusive or
    borderline, else that it held, with any earlier step that kept it from a plain answer."""
    objective = result.objective
    wording = _WORDING[objective.metric]
    if objective.metric == "stale_read_rate":
        tolerance = millis(thresholds.stale_tolerance_ms)
        wording = wording._replace(subject=f"{wording.subject} (older than {tolerance})")
    slo = f"the {measure(result.threshold, objective.unit)} SLO"
    inconclusive = result.first(Judgement.INCONCLUSIVE)
    borderline = result.first(Judgement.BORDERLINE)
    breach = result.breach
    if breach is not None:
        over = "over" if objective.bound is Bound.CEILING else "under"
        value = breach.value
        line = (
            f"{wording.subject} {wording.verb} {words.at(breach.step.index, wording.klass)}: "
            f"{estimate_text(value.value, value.low, value.high, objective.unit)}, {over} {slo}"
        )
        if inconclusive is not None:
            line += f"; inconclusive earlier, {words.where(inconclusive)}"
        elif borderline is not None:
            line += f"; borderline earlier, {_borderline(words, result, borderline)}"
        return line
    if inconclusive is not None:
        return (
            f"{wording.subject} inconclusive {words.at(inconclusive, wording.klass)}: "
            f"{words.generator_limit(inconclusive)}"
        )
    if borderline is not None:
        return (
            f"{wording.subject}: borderline {_borderline(words, result, borderline)}, "
            f"around {slo}; not broken {words.highest()}"
        )
    if not result.measured:
        return f"{wording.subject}: not measured in this run"
    if Judgement.HOLDS not in result.judgements:
        return f"{wording.subject}: too few samples to judge {words.highest()}"
    return f"{wording.subject}: not reached {words.highest()}"


def _borderline(words: _Words, result: SloResult, index: int) -> str:
    """ "in waterfall: 0.7-1.6%": the step and its interval."""
    estimate = result.estimates[index]
    assert estimate is not None  # a borderline step measured it
    return f"{words.where(index)}: {span(estimate.low, estimate.high, result.objective.unit)}"


def _bottlenecks(
    words: _Words,
    classes: dict[RequestClass, tuple[StepSummary, ...]],
    metrics: dict[str, tuple[float | None, ...]],
    verdicts: dict[str, SloVerdict],
    thresholds: SloThresholds,
) -> tuple[Bottleneck, ...]:
    """Each component a symptom points at, earliest symptom first."""
    found: list[Bottleneck] = []
    stale = verdicts["stale_read_rate"].begins_at
    if stale is not None:
        lag = [_p99(row.journal_lag_events) for row in classes[RequestClass.QUERIES]]
        first = next((value for value in lag if value is not None), None)
        then = lag[stale]
        began = f"stale reads began {words.at(stale, RequestClass.QUERIES)}"
        if first is None or then is None:
            found.append(
                Bottleneck(
                    component=Component.PROJECTOR,
                    step=stale,
                    evidence=f"{began}; the target sends no journal-lag headers to confirm "
                    "that the read model is behind",
                )
            )
        elif then >= JOURNAL_LAG_GROWTH * max(first, 1.0):
            found.append(
                Bottleneck(
                    component=Component.PROJECTOR,
                    step=stale,
                    evidence=f"{began} as journal lag p99 grew from {num(first)} to "
                    f"{num(then)} events: the read model is falling behind the journal",
                )
            )
    # The engine's own deadline: 408 / -1007 on orders, judged by the timeout threshold.
    acks = [row.share(Outcome.TIMEOUT_408) for row in classes[RequestClass.ORDERS]]
    engine = begins_at(acks, thresholds.timeout_rate, Bound.CEILING)
    if engine is not None:
        reads = metrics["query_latency_p99_ms"][engine]
        if reads is not None and reads <= thresholds.query_latency_p99_ms:
            found.append(
                Bottleneck(
                    component=Component.ENGINE_QUEUE,
                    step=engine,
                    evidence=f"order timeouts (408 / -1007) began "
                    f"{words.at(engine, RequestClass.ORDERS)} while query p99 stayed at "
                    f"{millis(reads)}: orders wait for the engine's ack, not for the API",
                )
            )
    api = _api_symptoms(words, classes, verdicts["timeout_rate"].begins_at, engine, thresholds)
    if api:
        found.append(
            Bottleneck(
                component=Component.API_CONCURRENCY,
                step=api[0][0],
                evidence="; ".join(evidence for _, evidence in api),
            )
        )
    feed_lag = verdicts["feed_lag_p99_ms"]
    if feed_lag.begins_at is not None and feed_lag.value is not None:
        found.append(
            Bottleneck(
                component=Component.FEED_PUBLISHER,
                step=feed_lag.begins_at,
                evidence=f"liquidation feed lag p99 reached {millis(feed_lag.value)} "
                f"{words.at(feed_lag.begins_at)}, beyond the one-second window the feed "
                "batches by design",
            )
        )
    return tuple(sorted(found, key=lambda bottleneck: bottleneck.step))


def _api_symptoms(
    words: _Words,
    classes: dict[RequestClass, tuple[StepSummary, ...]],
    timeouts: int | None,
    engine: int | None,
    thresholds: SloThresholds,
) -> list[tuple[int, str]]:
    """What points at the API tier, earliest first, as (step, evidence): timeouts that began
    while order 408s (the engine's deadline) held, so requests ran out of recvWindow or of the
    client's patience queued in front of the workers; and 503s, the workers turning requests
    away."""
    every = by_step(classes)
    found = []
    if timeouts is not None and (engine is None or engine > timeouts):
        waited = _share(every[timeouts], WAITED_OUT) or 0.0
        found.append(
            (
                timeouts,
                f"-1021s and client timeouts reached {share(waited)} of requests "
                f"{words.at(timeouts)} while order 408s stayed within the SLO: requests wait "
                "in front of the API workers, not for the engine's ack",
            )
        )
    unavailable = [_share(rows, UNAVAILABLE) for rows in every]
    refusing = begins_at(unavailable, thresholds.error_rate, Bound.CEILING)
    if refusing is not None:
        found.append(
            (
                refusing,
                f"503s reached {share(unavailable[refusing] or 0.0)} of requests "
                f"{words.at(refusing)}: API workers are turning requests away",
            )
        )
    return sorted(found, key=lambda symptom: symptom[0])


def _knee_line(words: _Words, saturation: Saturation | None) -> str:
    if saturation is None:
        return "Saturation knee: not sought, as the load does not rise step by step"
    knee = saturation.knee
    if knee is not None:
        return (
            f"Saturation knee {words.at(knee.step)}: {rate(knee.achieved)} served; past it, "
            f"at most {rate(saturation.plateau.achieved)}"
        )
    if saturation.status is KneeStatus.TOO_FEW_STEPS:
        return f"Saturation knee: {len(words.steps)} steps are too few to find one"
    behind = saturation.falls_behind
    if behind is None:
        return f"Saturation knee: not reached {words.highest()}; every step was served"
    return (
        f"Saturation knee: no clear bend, but the exchange fell behind {words.at(behind.step)}"
        f" ({rate(behind.achieved)} served)"
    )


def _capacity_line(
    words: _Words,
    plan: CapacityPlan | None,
    verdicts: dict[str, SloVerdict],
    surge: Surge,
) -> str:
    if plan is None:
        return "Capacity: not estimated from this profile; a step ramp measures it"
    needs = (
        f"a {multiple(surge.order_multiple)}-orders / {multiple(surge.query_multiple)}-queries "
        f"surge needs {rate(plan.surge_rate)}"
    )
    limiting = plan.limiting_slo
    if plan.sustainable_rate == 0 and limiting is not None:
        return (
            f"Capacity: no tested step met every SLO ({limiting.label} broke at the first); {needs}"
        )
    held = "holds at least" if plan.lower_bound else "holds"
    began = None if limiting is None else verdicts[limiting.metric].begins_at
    capped = (
        ""
        if limiting is None or began is None
        else f", capped by {limiting.label} from {multiple(words.steps[began].multiple)}"
    )
    verdict = (
        f"within capacity, with {multiple(plan.headroom)} headroom"
        if plan.holds
        else f"{multiple(1 / plan.headroom)} what it holds"
    )
    return (
        f"Capacity: {held} {multiple(plan.sustainable_multiple)} baseline "
        f"({rate(plan.sustainable_rate)}{capped}); {needs}, {verdict}"
    )


def _scale_out_line(plan: CapacityPlan | None) -> tuple[str, ...]:
    """The scale-out verdict as a headline line; none without a fit."""
    if plan is None or plan.scale_out is None:
        return ()
    scale_out = plan.scale_out
    counts = ", ".join(str(count) for count in scale_out.fit.workers_measured)
    return (f"Scale-out (USL over {counts} API workers): {scale_out.verdict.removesuffix('.')}",)


def _load_machine_line(words: _Words) -> tuple[str, ...]:
    """The caution where the load generator was the limit (its machine near saturation, or
    behind with free senders), naming the first such step (and its figures, or the highest
    over several); none when it never was or was not sampled."""
    busy = [step for step in words.steps if step.generator_bound]
    if not busy:
        return ()
    first = busy[0]
    later = len(busy) - 1
    noun = "step" if words.ramp else "phase"
    also = f" and {later} later {noun}{'s' if later > 1 else ''}" if later else ""
    up_to = "up to " if later else ""
    measured = (
        ("host CPU", [step.host_cpu for step in busy]),
        ("load generator", [step.generator_cpu for step in busy]),
    )
    figures = [
        f"{what} {up_to}{cpu(max(seen))}"
        for what, values in measured
        if (seen := [value for value in values if value is not None])
    ]
    behind = max((step.behind_free_s or 0.0 for step in busy), default=0.0)
    if behind:
        figures.append(f"{up_to}{millis(behind * 1000)} behind with free senders")
    return (
        f"Load generator was the limit {words.at(first.index)}{also}: {', '.join(figures)}; "
        "latency and timeouts there are inconclusive, the load machine's own lag as much as "
        "the venue's; run the load from more cores or machines (--processes, distributed "
        "workers)",
    )


def _bottleneck_line(
    bottlenecks: Sequence[Bottleneck],
    evidence: ExchangeEvidence | None,
    verdicts: Sequence[SloVerdict],
) -> str:
    """The exchange's own evidence when it was sampled, else the symptoms' heuristic, saying
    what it rests on; never "none" while a latency SLO broke."""
    broke = [v for v in verdicts if v.metric in LATENCY_SLOS and v.broken]
    broken = "; ".join(verdict.line for verdict in broke)
    if evidence is not None:
        if evidence.findings:
            first, *later = evidence.findings
            then = f" (then {', '.join(f.component for f in later)})" if later else ""
            return f"Bottleneck (measured on the exchange): {first.line}{then}"
        if broke:
            return (
                f"Bottleneck: not the exchange, which kept up ({evidence.seen}), though {broken}: "
                "the time went elsewhere (the load generator, the network, the clients)"
            )
        return f"Bottleneck: none reached; the exchange kept up ({evidence.seen})"
    rests = "from client-side symptoms"
    if bottlenecks:
        top = bottlenecks[0]
        return f"Likely bottleneck (heuristic, {rests}): {top.component} — {top.evidence}"
    if broke:
        return f"Likely bottleneck: no client-side symptom points at a component, though {broken}"
    return f"Likely bottleneck (heuristic, {rests}): none indicated by this run"


def _audit_line(audit: ConservationAudit | None) -> str:
    if audit is None:
        return "Conservation audit: not recorded (the run has no audit.json)"
    if audit.passed:
        return "Conservation audit: PASS"
    failed = [
        what
        for what, held in (
            ("cash not conserved", audit.cash_conserved),
            ("positions unbalanced", audit.positions_balanced),
            ("taken while not quiet", audit.quiet),
        )
        if not held
    ]
    return f"Conservation audit: FAIL ({'; '.join(failed) or 'as the exchange reported'})"
