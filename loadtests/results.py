"""The run directory: everything a run leaves behind, and all the report ever reads.

    <run>/
      profile.yaml        the profile as run, its time scale resolved
      settings.json       how it was run (target, users, ...), as the CLI passes it
      steps.jsonl         one StepSummary per step x series (x symbol, where kept per symbol)
      histograms/*.hdr    every histogram, hdrh-encoded base64 text, for re-analysis:
                          <index>-<step>.<series>.<symbol or "all">.<name>.hdr
      audit.json          the exchange's conservation audit after the run, when it has one
      timeline.jsonl      one MarketSample per second x symbol: last, mark and index price,
                          true and feed-shown liquidations (see `sampler.py`)
      generator.jsonl     one GeneratorSample per second: how busy the load machine was, its
                          host's CPU and each Locust runner's (see `hostload.py`)
      exchange.jsonl      one ExchangeSample per second, against the mock: its queue, the
                          projector's lag, each process's CPU, requests in flight and shed,
                          Redis round trips (see `exchange_sampler.py`)
      events.jsonl        one AppliedEvent per profile event the run applied, skipped or had
                          refused, with when (see `driver.py`)
      moments.jsonl       Moments: tenths of a second x request class, outcomes and slow
                          requests by intended send time (see `moments.py`), appended as the
                          generators report them (a tenth may take several rows, added up
                          when read back); what the report
                          times recoveries from
      locust_*.csv        Locust's own CSVs, left as Locust writes them (--csv <run>/locust)

`start_run` writes what is known before the load starts, so even a run that dies part-way says
what it was; `append_timeline`, `append_generator` and `append_exchange` add each second's
samples as they are taken, so they survive such a run too; `finish_run` writes the measurements;
`read_run` reads it all back (a run directory from before timelines, generator or exchange
samples, or against a target without the mock's telemetry, reads back with none of them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from hdrh.histogram import HdrHistogram
from pydantic import (
    BaseModel,
    ConfigDict,
    JsonValue,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from loadtests.depthwatch import depth_stats
from loadtests.feedwatch import feed_stats
from loadtests.metrics import (
    CORRECTED_US,
    LATE_SENDS,
    ORDER_COUNT_1M,
    ORDER_COUNT_10S,
    RAW_US,
    RETRIES,
    USED_WEIGHT_1M,
    Metrics,
    Outcome,
    Percentiles,
    SeriesKey,
    Tally,
    decode_histogram,
    encode_histogram,
)
from loadtests.moments import Moment, Moments
from loadtests.pacing import RateSchedule
from loadtests.profiles import (
    Event,
    PerClass,
    PhaseWindow,
    Profile,
    ProfileError,
    RequestClass,
    Timeline,
    dump_profile,
    parse_profile,
)
from loadtests.staleness import (
    INCONSISTENT_READS,
    JOURNAL_LAG_EVENTS,
    MOVED_READS,
    READS,
    STALE_AGE_US,
    STALE_READS,
)

PROFILE_FILE = "profile.yaml"
SETTINGS_FILE = "settings.json"
STEPS_FILE = "steps.jsonl"
HISTOGRAMS_DIR = "histograms"
HISTOGRAM_SUFFIX = ".hdr"
AUDIT_FILE = "audit.json"
TIMELINE_FILE = "timeline.jsonl"
GENERATOR_FILE = "generator.jsonl"
EXCHANGE_FILE = "exchange.jsonl"
MOMENTS_FILE = "moments.jsonl"
EVENTS_FILE = "events.jsonl"
LOCUST_CSV_PREFIX = "locust"
"""Pass `--csv <run>/locust` to Locust; its CSVs then land beside the rest."""
ALL_SYMBOLS = "all"

_SETTINGS = TypeAdapter(dict[str, JsonValue])
_REQUEST_SERIES = frozenset(RequestClass)


class ResultsError(ValueError):
    """A run directory that is missing a file or holds one that does not parse."""


class StepSummary(BaseModel):
    """One step (phase) of a run for one series: a request class, or the liquidation feed.

    Rows for a request class carry rates, outcomes, latency and (for queries) staleness; rows
    for the feed carry its lag and completeness; rows for the depth stream its lag, gaps,
    resyncs and how the local book's top compared with REST reads. `symbol` is None for the
    row covering every symbol; per-symbol rows follow it where the series was kept per symbol.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    step: str
    index: int
    series: str
    symbol: str | None = None
    start: float
    """Seconds since the epoch at which the step was scheduled to start."""
    end: float
    multipliers_start: PerClass
    multipliers_end: PerClass
    """Equal to `multipliers_start` unless the step ramps."""

    offered_rate: float | None
    """Requests per second the profile asked for (request classes, all symbols)."""
    achieved_rate: float | None
    """Successful requests per second (request classes)."""
    requests: int
    """Requests whose intended send time fell in the step, whatever their outcome."""
    outcomes: dict[Outcome, int]
    late_sends: int
    retries: int = 0
    """Attempts beyond the first, over the step's requests: what the clients' retry policy
    added to the offered load (each request still counts once, with its final outcome)."""
    corrected_ms: Percentiles | None
    """Latency from each request's intended send time: what a user of the surge felt."""
    raw_ms: Percentiles | None
    """Latency from the actual send, as tools without the correction report it."""

    reads: int
    """Probe position reads judged for staleness."""
    stale_reads: int
    inconsistent_reads: int
    moved_reads: int = 0
    """Probe reads of a position the venue had moved itself (auto-deleveraging): not judged."""
    stale_rate: float | None
    stale_age_ms: Percentiles | None
    journal_lag_events: Percentiles | None
    """Journal events the read model was behind, from the mock's white-box headers."""

    feed_events: int
    liquidations: int
    completeness: float | None
    feed_lag_ms: Percentiles | None
    negative_feed_lags: int
    """Feed events stamped later than they arrived: a clock skew, recorded as zero lag."""

    depth_gaps: int = 0
    """Depth-stream events that broke the local book's update-id chain (`depth_stream` rows,
    whose feed fields hold the stream's events and lag; see `depthwatch.py`). These fields
    default so that rows written before they were measured read back."""
    depth_resyncs: int = 0
    """Snapshots a local book was rebuilt from after its first."""
    top_samples: int = 0
    """REST depth reads compared with the local book's top."""
    top_different: int = 0
    """Those whose best bid or ask differed from the local book's."""
    top_off_ticks: Percentiles | None = None
    """By how many ticks the compared reads' further side was off (0 where they agreed)."""

    used_weight_max: int | None
    """Highest X-MBX-USED-WEIGHT-1M seen: how close the step came to the weight limit."""
    order_count_10s_max: int | None
    order_count_1m_max: int | None

    @field_validator("outcomes")
    @classmethod
    def _every_outcome(cls, outcomes: dict[Outcome, int]) -> dict[Outcome, int]:
        """Every outcome, counted or not: a row written before an outcome existed saw none."""
        return {outcome: outcomes.get(outcome, 0) for outcome in Outcome}

    def share(self, *outcomes: Outcome) -> float | None:
        """The fraction of the step's requests that ended in any of `outcomes`."""
        if not self.requests:
            return None
        return sum(self.outcomes[outcome] for outcome in outcomes) / self.requests


class ConservationAudit(BaseModel):
    """The exchange's own audit after the run; its detail (balances, positions...) is kept as
    the exchange reported it."""

    model_config = ConfigDict(extra="allow", frozen=True)

    passed: bool
    quiet: bool
    cash_conserved: bool
    positions_balanced: bool


class MarketSample(BaseModel):
    """One symbol's market at one second of the run: what the cascade timeline draws.

    Prices are as the target published them (None where a read failed or no price exists yet);
    liquidations are cumulative from the run's first sample, so a missed second loses no count.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: float
    """Run seconds (since run second 0) at which the sample was taken."""
    symbol: str
    price: Decimal | None
    """The last traded price."""
    mark: Decimal | None
    index: Decimal | None
    liquidations: int | None
    """Liquidations the exchange made (its truth counter); None on a target without one."""
    feed_liquidations: int
    """Liquidation events the public feed pushed (`!forceOrder@arr`)."""


class GeneratorSample(BaseModel):
    """How busy the load machine was at one second of the run: near saturation, latency
    measured from intended send times includes the load machine's own lag, not just the venue's.

    CPU is in percent, as psutil and Locust give it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: float
    """Run seconds (since run second 0) at which the sample was taken."""
    host_cpu: float
    """The whole host's CPU (every core, 0-100) since the previous sample, on the machine of
    the process that owns the run."""
    runner_cpu: dict[str, float]
    """Each load-generating Locust process's CPU as Locust last measured it (100 is one core
    busy), by worker id, or "local" for a run's only process."""
    behind_waiting_s: float = 0.0
    """How far the load was behind its schedule while most senders waited on the target."""
    behind_free_s: float = 0.0
    """How far it was behind while senders were free: the generator's own lag. Both default
    to 0 so generator samples written before they were taken read back."""


class ProcessSample(BaseModel):
    """One exchange process at one second of the run, as the mock reports its vitals
    (`exchange_mock/telemetry/vitals.py`); what else they carry is dropped."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    process: str
    roles: tuple[str, ...]
    """The pipeline's parts it runs: api, engine, projector, makers, feeds."""
    cpu_pct: float
    """Percent of one core since the exchange's previous sample: an asyncio process is busy at
    100."""
    requests_in_flight: int | None = None
    """None in a process without the API."""
    request_capacity: int | None = None
    requests_shed: int = 0
    """Requests refused at once over the concurrency cap (503) since the process started."""
    orders_shed: int = 0
    """New orders refused with the engine's queue too deep (-1008) since the process started."""
    redis_round_trips: int = 0
    """Round trips of its Redis traffic since the exchange's previous sample."""
    redis_rtt_ms: float | None = None
    """Their mean; None when there were none."""
    redis_rtt_max_ms: float | None = None


class ExchangeSample(BaseModel):
    """The mock exchange's own state at one second of the run: its queues, lags and processes,
    which name the bottleneck with numbers rather than from the symptoms clients see."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: float
    """Run seconds (since run second 0) at which the sample was taken."""
    orders_queued: int
    """Commands waiting in front of the engine."""
    journal_head: int
    projected_seq: int
    """The last journal sequence the projector's read model reflects."""
    projector_lag_ms: int
    """Age of the oldest journaled event the read model does not yet reflect."""
    processes: tuple[ProcessSample, ...]
    redis_cpu_s: float | None = None
    """CPU seconds Redis had used (system and user) by then; None where not reported."""

    @property
    def projector_lag_events(self) -> int:
        return self.journal_head - self.projected_seq


class AppliedEvent(BaseModel):
    """What became of one profile event against the target, and when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: float
    """Run seconds at which the target answered (or the event was skipped)."""
    step: str
    event: Event
    status: str
    """applied, skipped (the target has no such endpoint) or failed (it refused)."""
    detail: str = ""

    @property
    def applied(self) -> bool:
        return self.status == "applied"


_Sample = TypeVar("_Sample", MarketSample, GeneratorSample, ExchangeSample, Moment, AppliedEvent)


class HistogramKey(NamedTuple):
    series: SeriesKey
    name: str

    @property
    def file_name(self) -> str:
        key = self.series
        symbol = key.symbol or ALL_SYMBOLS
        return (
            f"{key.step_index:03d}-{key.step}.{key.series}.{symbol}.{self.name}{HISTOGRAM_SUFFIX}"
        )

    @classmethod
    def parse(cls, file_name: str) -> HistogramKey:
        try:
            step, series, symbol, name = file_name.removesuffix(HISTOGRAM_SUFFIX).split(".")
            index, step_name = step.split("-", 1)
            key = SeriesKey(
                int(index), step_name, series, None if symbol == ALL_SYMBOLS else symbol
            )
        except ValueError as exc:
            raise ResultsError(
                f"histogram file name {file_name!r} is not one a run writes"
            ) from exc
        return cls(key, name)


def summarize(metrics: Metrics, timeline: Timeline, *, origin: float) -> list[StepSummary]:
    """One row per step x series from a run's merged metrics; `origin` is the wall-clock time
    (seconds since the epoch) of run second 0.

    Every step gets a row for every request class, measured or not: a step in which nothing
    was sent shows up as zero achieved, not as a gap.
    """
    groups: dict[tuple[int, str], dict[str | None, Tally]] = {
        (window.index, klass.value): {} for window in timeline.windows for klass in RequestClass
    }
    for key, tally in metrics.items():
        if key.step_index >= len(timeline.windows) or (
            timeline.windows[key.step_index].name != key.step
        ):
            raise ValueError(f"metrics for step {key.step_index} {key.step!r}, not in the profile")
        groups.setdefault((key.step_index, key.series), {})[key.symbol] = tally
    schedules = {klass.value: RateSchedule.for_class(timeline, klass) for klass in RequestClass}
    rows = []
    for (index, series), by_symbol in sorted(groups.items()):
        window = timeline.windows[index]
        schedule = schedules.get(series)
        offered = None
        if schedule is not None:
            asked = schedule.count_until(window.end) - schedule.count_until(window.start)
            offered = asked / window.duration
        rows.append(
            _summary(window, series, None, Tally.combine(by_symbol.values()), offered, origin)
        )
        rows.extend(
            _summary(window, series, symbol, by_symbol[symbol], None, origin)
            for symbol in sorted(s for s in by_symbol if s is not None)
        )
    return rows


def _summary(
    window: PhaseWindow,
    series: str,
    symbol: str | None,
    tally: Tally,
    offered: float | None,
    origin: float,
) -> StepSummary:
    counts, peaks = tally.counts, tally.peaks
    outcomes = {outcome: counts.get(outcome, 0) for outcome in Outcome}
    reads, stale = counts.get(READS, 0), counts.get(STALE_READS, 0)
    feed, depth = feed_stats([tally]), depth_stats([tally])
    return StepSummary(
        step=window.name,
        index=window.index,
        series=series,
        symbol=symbol,
        start=origin + window.start,
        end=origin + window.end,
        multipliers_start=window.entry,
        multipliers_end=window.phase.multipliers,
        offered_rate=offered,
        achieved_rate=outcomes[Outcome.SUCCESS] / window.duration
        if series in _REQUEST_SERIES
        else None,
        requests=sum(outcomes.values()),
        outcomes=outcomes,
        late_sends=counts.get(LATE_SENDS, 0),
        retries=counts.get(RETRIES, 0),
        corrected_ms=tally.percentiles(CORRECTED_US, unit=1000),
        raw_ms=tally.percentiles(RAW_US, unit=1000),
        reads=reads,
        stale_reads=stale,
        inconsistent_reads=counts.get(INCONSISTENT_READS, 0),
        moved_reads=counts.get(MOVED_READS, 0),
        stale_rate=stale / reads if reads else None,
        stale_age_ms=tally.percentiles(STALE_AGE_US, unit=1000),
        journal_lag_events=tally.percentiles(JOURNAL_LAG_EVENTS),
        feed_events=feed.events,
        liquidations=feed.liquidations,
        completeness=feed.completeness,
        feed_lag_ms=feed.lag_ms,
        negative_feed_lags=feed.negative_lags,
        depth_gaps=depth.gaps,
        depth_resyncs=depth.resyncs,
        top_samples=depth.top_samples,
        top_different=depth.top_different,
        top_off_ticks=depth.top_off_ticks,
        used_weight_max=peaks.get(USED_WEIGHT_1M),
        order_count_10s_max=peaks.get(ORDER_COUNT_10S),
        order_count_1m_max=peaks.get(ORDER_COUNT_1M),
    )


def start_run(
    directory: Path,
    profile: Profile,
    settings: Mapping[str, JsonValue],
    *,
    time_scale: float | None = None,
) -> None:
    """Create the run directory with the profile as run and the settings; refuses a directory
    that already holds a run, so two runs never mix."""
    if (directory / PROFILE_FILE).exists():
        raise ResultsError(f"{directory} already holds a run")
    scale = profile.time_scale if time_scale is None else time_scale
    resolved = Profile.model_validate({**profile.model_dump(), "time_scale": scale})
    directory.mkdir(parents=True, exist_ok=True)
    (directory / PROFILE_FILE).write_text(dump_profile(resolved))
    (directory / SETTINGS_FILE).write_text(json.dumps(dict(settings), indent=2, sort_keys=True))


def finish_run(
    directory: Path,
    metrics: Metrics,
    timeline: Timeline,
    *,
    origin: float,
    audit: Mapping[str, Any] | None = None,
    events: Sequence[AppliedEvent] = (),
) -> list[StepSummary]:
    """Write the run's measurements (the events it applied, and the exchange's audit if it has
    one); returns the step summaries written."""
    steps = summarize(metrics, timeline, origin=origin)
    (directory / STEPS_FILE).write_text("".join(row.model_dump_json() + "\n" for row in steps))
    histograms = directory / HISTOGRAMS_DIR
    histograms.mkdir(exist_ok=True)
    for key, tally in metrics.items():
        for name, histogram in tally.histograms.items():
            path = histograms / HistogramKey(key, name).file_name
            path.write_text(encode_histogram(histogram))
    if events:
        _append(directory / EVENTS_FILE, events)
    if audit is not None:
        checked = ConservationAudit.model_validate(audit)
        (directory / AUDIT_FILE).write_text(checked.model_dump_json(indent=2))
    return steps


def append_timeline(directory: Path, samples: Sequence[MarketSample]) -> None:
    """Add one second's samples to the run's timeline."""
    _append(directory / TIMELINE_FILE, samples)


def append_generator(directory: Path, sample: GeneratorSample) -> None:
    """Add one second's load-machine sample to the run's generator samples."""
    _append(directory / GENERATOR_FILE, [sample])


def append_moments(directory: Path, moments: Sequence[Moment]) -> None:
    """Add what a generator reported of the run's moments since its last report."""
    if moments:
        _append(directory / MOMENTS_FILE, moments)


def append_exchange(directory: Path, sample: ExchangeSample) -> None:
    """Add one second's sample of the mock exchange's own state."""
    _append(directory / EXCHANGE_FILE, [sample])


def _append(path: Path, samples: Sequence[BaseModel]) -> None:
    with path.open("a") as file:
        file.writelines(sample.model_dump_json() + "\n" for sample in samples)


@dataclass(frozen=True, slots=True)
class RunResult:
    """A finished run as its files record it."""

    directory: Path
    profile: Profile
    settings: dict[str, JsonValue]
    steps: tuple[StepSummary, ...]
    audit: ConservationAudit | None
    histogram_files: dict[HistogramKey, Path]
    locust_csvs: tuple[Path, ...]
    timeline: tuple[MarketSample, ...] = ()
    """Oldest first; empty for a run that sampled none."""
    generator: tuple[GeneratorSample, ...] = ()
    """Oldest first; empty for a run that sampled none."""
    exchange: tuple[ExchangeSample, ...] = ()
    """Oldest first; empty against a target without the mock's telemetry."""
    moments: tuple[Moment, ...] = ()
    """Oldest first; empty for a run from before they were recorded."""
    events: tuple[AppliedEvent, ...] | None = None
    """In the order applied; None for a run that applied none (or from before they were
    recorded): its events are then only the profile's schedule."""

    def histogram(self, key: HistogramKey) -> HdrHistogram:
        return decode_histogram(self.histogram_files[key].read_text())


def read_run(directory: Path) -> RunResult:
    try:
        profile = parse_profile(
            _read(directory, PROFILE_FILE), source=str(directory / PROFILE_FILE)
        )
        settings = _SETTINGS.validate_json(_read(directory, SETTINGS_FILE))
        steps = tuple(
            StepSummary.model_validate_json(line)
            for line in _read(directory, STEPS_FILE).splitlines()
            if line.strip()
        )
        audit_path = directory / AUDIT_FILE
        audit = (
            ConservationAudit.model_validate_json(audit_path.read_text())
            if audit_path.exists()
            else None
        )
        timeline = _samples(directory / TIMELINE_FILE, MarketSample)
        generator = _samples(directory / GENERATOR_FILE, GeneratorSample)
        exchange = _samples(directory / EXCHANGE_FILE, ExchangeSample)
        moments = Moments()
        moments.merge(_samples(directory / MOMENTS_FILE, Moment))
        events = _samples(directory / EVENTS_FILE, AppliedEvent) or None
    except (ProfileError, ValidationError) as exc:
        raise ResultsError(f"{directory}: {exc}") from exc
    histograms = directory / HISTOGRAMS_DIR
    histogram_files = {
        HistogramKey.parse(path.name): path
        for path in sorted(histograms.glob(f"*{HISTOGRAM_SUFFIX}"))
    }
    return RunResult(
        directory=directory,
        profile=profile,
        settings=settings,
        steps=steps,
        audit=audit,
        histogram_files=histogram_files,
        locust_csvs=tuple(sorted(directory.glob(f"{LOCUST_CSV_PREFIX}_*.csv"))),
        timeline=timeline,
        generator=generator,
        exchange=exchange,
        moments=tuple(moments.ordered()),
        events=events,
    )


def _samples(path: Path, model: type[_Sample]) -> tuple[_Sample, ...]:
    """A file of samples, one per line; none when the run did not take them."""
    if not path.exists():
        return ()
    return tuple(
        model.model_validate_json(line) for line in path.read_text().splitlines() if line.strip()
    )


def _read(directory: Path, name: str) -> str:
    try:
        return (directory / name).read_text()
    except FileNotFoundError as exc:
        raise ResultsError(f"{directory}: no {name}; is this a run directory?") from exc
