"""The bottleneck, named from the exchange's own state rather than from its clients' symptoms.

Against the mock, the run sampled each second the commands queued in front of the engine, how
far the projector's read model trailed the journal, and each exchange process's roles, CPU,
requests in flight and shed, and Redis round trips (`exchange.jsonl`). A component held the
load back when its own backlog grew or it turned work away:

| component | held the load back when                                   | shown with          |
|-----------|-----------------------------------------------------------|---------------------|
| engine    | its queue reached `ENGINE_QUEUE_FLOOR` commands           | its process's CPU   |
| projector | its read model fell `PROJECTOR_LAG_FLOOR_MS` behind       | lag in events, CPU  |
| API       | a worker shed requests over its concurrency cap, or had   | its processes' CPU  |
|           | `BUSY_SHARE` of its capacity in flight                    |                     |
| Redis     | its own CPU reached `BUSY_CPU_PCT` of a core (it runs one)| round-trip times    |
| a process | none of the above, but it sat at `BUSY_CPU_PCT` of a core | its roles           |

Each finding starts where its signal first crossed, earliest first; the first names the
bottleneck. The CPU printed is the mean of the process's samples from there to the backlog's
peak: where a process runs several roles (the embedded mock runs them all in one), it is said,
as they then compete for the same core.

These floors judge the exchange, not the venue's users (that is what the SLOs do), so they live
here rather than in slo.yaml.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from statistics import fmean

from pydantic import BaseModel, ConfigDict

from loadtests.profiles import Timeline
from loadtests.report.units import millis, num, share
from loadtests.results import ExchangeSample, ProcessSample

ENGINE_QUEUE_FLOOR = 500
"""Commands queued in front of the engine: a sequencer that keeps up drains its queue within a
round or two (it takes 512 a round by default)."""
PROJECTOR_LAG_FLOOR_MS = 500
"""How stale the oldest unprojected event is: a read model half a second behind serves
positions a trader can see are old."""
BUSY_SHARE = 0.9
"""Of an API worker's concurrency cap in flight at once."""
BUSY_CPU_PCT = 90.0
"""Of one core: every role is one asyncio loop, and Redis one thread."""
API = "api"
ENGINE = "engine"
PROJECTOR = "projector"


class Finding(BaseModel):
    """One component that held the load back, from where its signal first crossed."""

    model_config = ConfigDict(frozen=True)

    component: str
    began_at: float
    """Run seconds."""
    step: int
    evidence: str
    """What shows it, as a clause after the component's name."""

    @property
    def line(self) -> str:
        return f"{self.component}: {self.evidence}"


class ExchangeEvidence(BaseModel):
    """What the exchange's samples say held the load back, and what they saw overall."""

    model_config = ConfigDict(frozen=True)

    findings: tuple[Finding, ...]
    """Earliest first; empty when the exchange kept up."""
    seen: str
    """The highest of each series, for a run where nothing crossed its floor."""


def exchange_evidence(
    samples: Sequence[ExchangeSample], timeline: Timeline, label: Callable[[int], str]
) -> ExchangeEvidence | None:
    """The evidence in `samples` (None when the run has none), placing each finding in the step
    of `timeline` it began in, named by `label`."""
    if not samples:
        return None
    ordered = sorted(samples, key=lambda sample: sample.at)

    def step(at: float) -> int:
        window = timeline.window_at(at)
        return len(timeline.windows) - 1 if window is None else window.index

    found = [
        finding
        for make in (_engine, _projector, _api, _redis)
        if (finding := make(ordered, step, label)) is not None
    ]
    if not found:
        busy = _busy_process(ordered, step, label)
        found = [] if busy is None else [busy]
    return ExchangeEvidence(
        findings=tuple(sorted(found, key=lambda finding: finding.began_at)), seen=_seen(ordered)
    )


_Step = Callable[[float], int]
_Label = Callable[[int], str]


def role_cpu(sample: ExchangeSample, role: str) -> float | None:
    """The CPU of the busiest process running `role` at `sample`; None when none reported."""
    return max((p.cpu_pct for p in sample.processes if role in p.roles), default=None)


def shed_per_second(samples: Sequence[ExchangeSample]) -> list[tuple[int, int]]:
    """Requests (over the concurrency cap) and orders (queue too deep) every process shed
    since the sample before, per sample; the first sample counts from what it found."""
    shed = [(0, 0)]
    for before, after in pairwise(samples):
        then = {p.process: p for p in before.processes}
        requests = orders = 0
        for process in after.processes:
            earlier = then.get(process.process)
            requests += process.requests_shed - (earlier.requests_shed if earlier else 0)
            orders += process.orders_shed - (earlier.orders_shed if earlier else 0)
        shed.append((max(requests, 0), max(orders, 0)))
    return shed


def redis_cpu(samples: Sequence[ExchangeSample]) -> list[float | None]:
    """Redis's CPU (percent of a core) since the sample before, per sample."""
    found: list[float | None] = [None]
    for before, after in pairwise(samples):
        if before.redis_cpu_s is None or after.redis_cpu_s is None or after.at <= before.at:
            found.append(None)
        else:
            found.append(100 * (after.redis_cpu_s - before.redis_cpu_s) / (after.at - before.at))
    return found


def redis_rtt_ms(sample: ExchangeSample) -> float | None:
    """Every process's Redis round trips since the sample before, averaged."""
    trips = [p for p in sample.processes if p.redis_rtt_ms is not None and p.redis_round_trips]
    count = sum(p.redis_round_trips for p in trips)
    if not count:
        return None
    return sum((p.redis_rtt_ms or 0.0) * p.redis_round_trips for p in trips) / count


def _first(values: Sequence[float | None], floor: float) -> int | None:
    return next((i for i, value in enumerate(values) if value is not None and value >= floor), None)


def _cpu_clause(
    samples: Sequence[ExchangeSample], role: str, began: int, peak: int, whose: str = "its"
) -> str:
    """ "while its process sat at 98% CPU" (the busiest, where several run `role`), over the
    samples from `began` to `peak`, naming the other roles that share the process."""
    span = samples[began : max(peak, began) + 1]
    seen = [cpu for sample in span if (cpu := role_cpu(sample, role)) is not None]
    if not seen:
        return ""
    shared = sorted(
        {r for s in span for p in s.processes if role in p.roles for r in p.roles} - {role}
    )
    sharing = f" (shared with {', '.join(shared)})" if shared else ""
    return f" while {whose} process{sharing} sat at {fmean(seen):.0f}% CPU"


def _grew(values: Sequence[float], began: int) -> tuple[float, float, int]:
    """Where a backlog started (the run's first sample), its peak from `began` on, and where."""
    peak = max(range(began, len(values)), key=lambda i: values[i])
    return values[0], values[peak], peak


def _engine(samples: Sequence[ExchangeSample], step: _Step, label: _Label) -> Finding | None:
    queued = [float(s.orders_queued) for s in samples]
    began = _first(queued, ENGINE_QUEUE_FLOOR)
    if began is None:
        return None
    start, peak, at = _grew(queued, began)
    orders = sum(o for _, o in shed_per_second(samples)[began:])
    shed = f", and {num(orders)} new orders were shed (-1008)" if orders else ""
    return _found(
        "the engine",
        samples[began].at,
        step,
        label,
        lambda phase: (
            f"its queue grew from {num(start)} to {num(peak)} commands from "
            f"{phase} on{_cpu_clause(samples, ENGINE, began, at)}{shed}"
        ),
    )


def _projector(samples: Sequence[ExchangeSample], step: _Step, label: _Label) -> Finding | None:
    lag_ms = [float(s.projector_lag_ms) for s in samples]
    began = _first(lag_ms, PROJECTOR_LAG_FLOOR_MS)
    if began is None:
        return None
    events = [float(s.projector_lag_events) for s in samples]
    start, peak, at = _grew(events, began)
    return _found(
        "the projector",
        samples[began].at,
        step,
        label,
        lambda phase: (
            f"its lag grew from {num(start)} to {num(peak)} events "
            f"({millis(max(lag_ms[began:]))} behind the journal at worst) from {phase} "
            f"on{_cpu_clause(samples, PROJECTOR, began, at)}"
        ),
    )


def _api(samples: Sequence[ExchangeSample], step: _Step, label: _Label) -> Finding | None:
    shed = [float(requests) for requests, _ in shed_per_second(samples)]
    full = [_in_flight_share(s.processes) for s in samples]
    began_shed, began_full = _first(shed, 1), _first(full, BUSY_SHARE)
    began = min((i for i in (began_shed, began_full) if i is not None), default=None)
    if began is None:
        return None
    last = max(i for i in range(began, len(samples)) if shed[i] or (full[i] or 0) >= BUSY_SHARE)
    clauses = []
    if began_shed is not None:
        clauses.append(f"they shed {num(sum(shed[began:]))} requests over their cap (503)")
    peak_full = max((f for f in full[began:] if f is not None), default=None)
    if peak_full is not None:
        clauses.append(f"had up to {share(peak_full)} of their capacity in flight")
    return _found(
        "the API workers",
        samples[began].at,
        step,
        label,
        lambda phase: (
            f"from {phase} on, {' and '.join(clauses)}"
            f"{_cpu_clause(samples, API, began, last, 'the busiest API')}"
        ),
    )


def _found(
    component: str, began_at: float, step: _Step, label: _Label, says: Callable[[str], str]
) -> Finding:
    """The finding of `component`, begun at run second `began_at`; `says` words its evidence
    given the label of the step that began in."""
    index = step(began_at)
    return Finding(component=component, began_at=began_at, step=index, evidence=says(label(index)))


def _in_flight_share(processes: Sequence[ProcessSample]) -> float | None:
    shares = [
        p.requests_in_flight / p.request_capacity
        for p in processes
        if p.requests_in_flight is not None and p.request_capacity
    ]
    return max(shares, default=None)


def _redis(samples: Sequence[ExchangeSample], step: _Step, label: _Label) -> Finding | None:
    cpu = redis_cpu(samples)
    began = _first(cpu, BUSY_CPU_PCT)
    if began is None:
        return None
    rtt = [value for s in samples[began:] if (value := redis_rtt_ms(s)) is not None]
    trips = f", its round trips averaging {millis(fmean(rtt))}" if rtt else ""
    busy = fmean(value for value in cpu[began:] if value is not None)
    return _found(
        "Redis",
        samples[began].at,
        step,
        label,
        lambda phase: f"its one thread sat at {busy:.0f}% CPU from {phase} on{trips}",
    )


def _busy_process(samples: Sequence[ExchangeSample], step: _Step, label: _Label) -> Finding | None:
    first = next(
        (
            (index, process)
            for index, sample in enumerate(samples)
            for process in sample.processes
            if process.cpu_pct >= BUSY_CPU_PCT
        ),
        None,
    )
    if first is None:
        return None
    index, process = first
    busy = fmean(
        p.cpu_pct for s in samples[index:] for p in s.processes if p.process == process.process
    )
    return _found(
        f"the exchange process running {', '.join(process.roles)}",
        samples[index].at,
        step,
        label,
        lambda phase: (
            f"it sat at {busy:.0f}% CPU from {phase} on, though no queue grew past its floor"
        ),
    )


def _seen(samples: Sequence[ExchangeSample]) -> str:
    """The highest of each series: what a reader needs where nothing crossed a floor."""
    busiest = max(((p.cpu_pct, p.roles) for s in samples for p in s.processes), default=None)
    rtt = [value for s in samples if (value := redis_rtt_ms(s)) is not None]
    parts = [
        f"engine queue at most {num(max(s.orders_queued for s in samples))} commands",
        f"projector lag at most {num(max(s.projector_lag_events for s in samples))} events "
        f"({millis(max(s.projector_lag_ms for s in samples))})",
    ]
    if busiest is not None:
        parts.append(f"busiest process {busiest[0]:.0f}% CPU ({', '.join(busiest[1])})")
    if rtt:
        parts.append(f"Redis round trips at most {millis(max(rtt))} on average in a second")
    return ", ".join(parts)
