"""The harness's Prometheus metrics (`stampede_harness_*`), exported by the process that owns a
run: Locust's master, or its only process (`--metrics-port`, `--metrics-host`).

They are read at each scrape from the run's merged measurements (`ActiveRun.metrics`, what the
report is built from), so they are the report's own numbers as the run goes: exact across
workers (HDR histograms add bucket by bucket), and as current as the workers' last shipment
(every few seconds). A request counts against the step of its *intended* send time, as in the
report. Between runs only `stampede_harness_run_active 0` is exported; a new run starts its
counters from zero, as Prometheus expects of a restarted counter.

| metric                                              | what                                 |
|-----------------------------------------------------|--------------------------------------|
| `stampede_harness_requests_total{class,outcome}`    | requests by how they ended; failures |
|                                                     | by kind are the outcomes but success |
| `stampede_harness_offered_requests_per_second`      | what the profile asks for now; the   |
|                                                     | achieved rate is the rate of         |
|                                                     | `requests_total{outcome="success"}`  |
| `stampede_harness_late_sends_total{class}`          | requests sent after their time       |
| `stampede_harness_request_duration_seconds`         | latency, `latency="corrected"` (from |
|   `{class,latency}`                                 | the intended send) and `"raw"`       |
| `stampede_harness_reads_total`,                     | probe position reads; stale ones (a  |
|   `_stale_reads_total`, `_inconsistent_reads_total` | fill acknowledged before the read is |
|   `_moved_reads_total`                              | missing), impossible ones, and those |
|                                                     | of a position the venue moved (ADL)  |
| `stampede_harness_stale_read_age_seconds`           | how old the stale reads were         |
| `stampede_harness_feed_events_total{stream,symbol}` | events heard on the WebSocket feeds  |
| `stampede_harness_feed_lag_seconds{stream}`         | receive time − event time            |
| `stampede_harness_feed_liquidations_total{symbol}`  | true liquidations, as far as the     |
|                                                     | harness learned them                 |
| `stampede_harness_feed_completeness_ratio`          | liquidation events seen ÷ true ones  |
| `stampede_harness_depth_gaps_total{symbol}`,        | depth-stream updates missed by the   |
|   `_depth_resyncs_total{symbol}`                    | local books, and snapshots rebuilt   |
|                                                     | from (their lag and events are the   |
|                                                     | feed's, `stream="depth_stream"`)     |
| `stampede_harness_step_index{phase}`,               | where the run is, and the load       |
|   `_load_multiplier{class}`, `_elapsed_seconds`,    | multiple the profile applies now     |
|   `_duration_seconds`, `_users`, `_run_active`      |                                      |
"""

from __future__ import annotations

import bisect
import math
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from gevent.pywsgi import WSGIServer
from hdrh.histogram import HdrHistogram
from locust.env import Environment
from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from loadtests.coordinator import ActiveRun, coordinator_of
from loadtests.depthwatch import DEPTH, DEPTH_GAPS, DEPTH_RESYNCS
from loadtests.feedwatch import FEED, FEED_EVENTS, FEED_LAG_US, LIQUIDATIONS
from loadtests.metrics import CORRECTED_US, LATE_SENDS, RAW_US, Metrics, Outcome
from loadtests.profiles import RequestClass, Timeline
from loadtests.recorded import Recorded
from loadtests.staleness import (
    INCONSISTENT_READS,
    MOVED_READS,
    READS,
    STALE_AGE_US,
    STALE_READS,
)

DEFAULT_HOST = "127.0.0.1"
SECONDS_BOUNDS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip
"""Histogram bucket bounds, in seconds: a fast read to a client timeout and past it."""
US = 1e-6
LIQUIDATION_STREAM = "liquidations"
"""The `stream` label of the liquidation feed (`!forceOrder@arr`, the `feed` series)."""
LATENCIES = {"corrected": CORRECTED_US, "raw": RAW_US}


def register(parser: Any) -> None:
    """Add the exporter's options to Locust's parser (`init_command_line_parser`)."""
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=0,
        env_var="LOCUST_METRICS_PORT",
        help="[stampede] Serve the harness's Prometheus metrics on this port (the master or the "
        "only process); 0 serves none.",
    )
    parser.add_argument(
        "--metrics-host",
        default=DEFAULT_HOST,
        env_var="LOCUST_METRICS_HOST",
        help=f"[stampede] Address the metrics are served on; {DEFAULT_HOST} by default.",
    )


def export(environment: Environment) -> None:
    """Serve the metrics of the runs `environment` owns until Locust quits, when the options
    ask for a port."""
    parsed = environment.parsed_options
    if parsed is None or not parsed.metrics_port:
        return
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HarnessCollector(environment))
    address = (parsed.metrics_host, int(parsed.metrics_port))
    server = WSGIServer(address, make_wsgi_app(registry), log=None)
    server.start()

    def stop(**_: Any) -> None:
        server.stop(timeout=1)

    quitting: Any = environment.events.quitting  # Locust's event hooks are untyped
    quitting.add_listener(stop)


class HarnessCollector:
    """Reads the run in progress at each scrape (see the module's docstring)."""

    def __init__(self, environment: Environment) -> None:
        self._env = environment

    def collect(self) -> Iterator[Metric]:
        run: ActiveRun | None = coordinator_of(self._env).run
        yield GaugeMetricFamily(
            "stampede_harness_run_active",
            "1 while a run is in progress.",
            value=int(run is not None),
        )
        if run is None:
            return
        runner = self._env.runner
        users = 0 if runner is None else runner.user_count
        elapsed = time.time() - run.plan.origin
        yield from run_families(
            run.metrics,
            run.timeline,
            run.plan.options.symbols,
            elapsed=elapsed,
            users=users,
        )


class _Buckets:
    """A Prometheus histogram's cumulative buckets, filled from HDR histograms."""

    def __init__(self, bounds: Sequence[float] = SECONDS_BOUNDS) -> None:
        self._bounds = bounds
        self._counts = [0] * (len(bounds) + 1)
        self._sum = 0.0

    def add(self, histogram: HdrHistogram | None, unit: float) -> None:
        if histogram is None:
            return
        for recorded_value, count in Recorded(histogram):
            value = recorded_value * unit
            self._counts[bisect.bisect_left(self._bounds, value)] += count
            self._sum += value * count

    def into(self, family: HistogramMetricFamily, labels: Sequence[str]) -> None:
        cumulative, buckets = 0, []
        for bound, count in zip((*map(str, self._bounds), "+Inf"), self._counts, strict=True):
            cumulative += count
            buckets.append((bound, cumulative))
        family.add_metric(list(labels), buckets, self._sum)


def _histogram(
    name: str, documentation: str, labels: Sequence[str], series: dict[tuple[str, ...], _Buckets]
) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, documentation, labels=list(labels))
    for values, buckets in sorted(series.items()):
        buckets.into(family, values)
    return family


def _counter(
    name: str, documentation: str, labels: Sequence[str], values: dict[tuple[str, ...], float]
) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=list(labels))
    for label_values, value in sorted(values.items()):
        family.add_metric(list(label_values), value)
    return family


def run_families(
    metrics: Metrics,
    timeline: Timeline,
    symbols: Iterable[str],
    *,
    elapsed: float,
    users: int,
) -> Iterable[Metric]:
    """The metric families of a run `elapsed` run seconds in, from its merged measurements;
    the liquidation feed's series exist for each of the run's `symbols` from the start."""
    classes = [klass.value for klass in RequestClass]
    requests: dict[tuple[str, ...], float] = {
        (klass, outcome.value): 0 for klass in classes for outcome in Outcome
    }
    late: dict[tuple[str, ...], float] = {(klass,): 0 for klass in classes}
    latency: dict[tuple[str, ...], _Buckets] = {
        (klass, kind): _Buckets() for klass in classes for kind in LATENCIES
    }
    reads: dict[str, int] = defaultdict(int)
    stale_age = _Buckets()
    feed_events: dict[tuple[str, ...], float] = {
        (LIQUIDATION_STREAM, symbol): 0 for symbol in symbols
    }
    feed_lag: dict[tuple[str, ...], _Buckets] = {(LIQUIDATION_STREAM,): _Buckets()}
    truth: dict[tuple[str, ...], float] = {(symbol,): 0 for symbol in symbols}
    depth: dict[str, dict[tuple[str, ...], float]] = {
        name: {(symbol,): 0 for symbol in symbols} for name in (DEPTH_GAPS, DEPTH_RESYNCS)
    }
    for key, tally in metrics.items():
        counts, histograms = tally.counts, tally.histograms
        if key.series in classes:
            for outcome in Outcome:
                requests[key.series, outcome.value] += counts.get(outcome, 0)
            late[(key.series,)] += counts.get(LATE_SENDS, 0)
            for kind, name in LATENCIES.items():
                latency[key.series, kind].add(histograms.get(name), US)
        for name in (READS, STALE_READS, INCONSISTENT_READS, MOVED_READS):
            reads[name] += counts.get(name, 0)
        stale_age.add(histograms.get(STALE_AGE_US), US)
        if FEED_LAG_US in histograms:
            stream = LIQUIDATION_STREAM if key.series == FEED else key.series
            events = (stream, key.symbol or "")
            feed_events[events] = feed_events.get(events, 0) + counts.get(FEED_EVENTS, 0)
            feed_lag.setdefault((stream,), _Buckets()).add(histograms[FEED_LAG_US], US)
        if key.series == FEED and key.symbol is not None:
            truth[(key.symbol,)] = truth.get((key.symbol,), 0) + counts.get(LIQUIDATIONS, 0)
        if key.series == DEPTH and key.symbol is not None:
            for name, by_symbol in depth.items():
                by_symbol[(key.symbol,)] = by_symbol.get((key.symbol,), 0) + counts.get(name, 0)

    yield from _position(timeline, elapsed, users)
    yield _counter(
        "stampede_harness_requests",
        "Requests by request class and how they ended.",
        ("class", "outcome"),
        requests,
    )
    yield _counter(
        "stampede_harness_late_sends", "Requests sent after their intended time.", ("class",), late
    )
    yield _histogram(
        "stampede_harness_request_duration_seconds",
        "Request latency: corrected from the intended send time, raw from the actual send.",
        ("class", "latency"),
        latency,
    )
    for name, documentation in (
        (READS, "Position reads of the probe accounts."),
        (STALE_READS, "Probe reads missing a fill acknowledged before they were sent."),
        (INCONSISTENT_READS, "Probe reads matching no state the position went through."),
        (MOVED_READS, "Probe reads of a position the venue moved itself (auto-deleveraging)."),
    ):
        yield _counter(f"stampede_harness_{name}", documentation, (), {(): reads[name]})
    yield _histogram(
        "stampede_harness_stale_read_age_seconds",
        "Age of the stale reads: send time − ack time of the oldest fill they miss.",
        (),
        {(): stale_age},
    )
    yield _counter(
        "stampede_harness_feed_events",
        "Events heard on the WebSocket feeds, by stream and symbol.",
        ("stream", "symbol"),
        feed_events,
    )
    yield _histogram(
        "stampede_harness_feed_lag_seconds",
        "Feed lag: receive time − the event time the venue stamped.",
        ("stream",),
        feed_lag,
    )
    yield _counter(
        "stampede_harness_feed_liquidations",
        "True liquidations, as far as the harness learned them.",
        ("symbol",),
        truth,
    )
    for name, documentation in (
        (DEPTH_GAPS, "Depth-stream updates the local books found missing (pu ≠ previous u)."),
        (DEPTH_RESYNCS, "Snapshots the local books were rebuilt from after their first."),
    ):
        yield _counter(f"stampede_harness_{name}", documentation, ("symbol",), depth[name])
    seen = sum(v for (stream, _), v in feed_events.items() if stream == LIQUIDATION_STREAM)
    known = sum(truth.values())
    yield GaugeMetricFamily(
        "stampede_harness_feed_completeness_ratio",
        "Liquidation events seen on the feed ÷ true liquidations; NaN before the first one.",
        value=seen / known if known else math.nan,
    )


def _position(timeline: Timeline, elapsed: float, users: int) -> Iterator[Metric]:
    """Where the run is: its step and phase, the multiple and rates the profile asks for."""
    at = min(max(elapsed, 0.0), timeline.duration)
    window = timeline.window_at(at) or timeline.windows[-1]
    multipliers = window.multipliers_at(min(at, window.end))
    step = GaugeMetricFamily(
        "stampede_harness_step_index", "The step (phase) running now.", labels=["phase"]
    )
    step.add_metric([window.name], window.index)
    yield step
    multiplier = GaugeMetricFamily(
        "stampede_harness_load_multiplier",
        "The profile's multiple of the baseline rate now, by request class.",
        labels=["class"],
    )
    offered = GaugeMetricFamily(
        "stampede_harness_offered_requests_per_second",
        "The rate the profile asks for now, by request class.",
        labels=["class"],
    )
    for klass in RequestClass:
        multiplier.add_metric([klass.value], multipliers.of(klass))
        offered.add_metric([klass.value], timeline.rate_at(klass, elapsed))
    yield multiplier
    yield offered
    yield GaugeMetricFamily("stampede_harness_elapsed_seconds", "Run seconds so far.", value=at)
    yield GaugeMetricFamily(
        "stampede_harness_duration_seconds", "Run seconds in all.", value=timeline.duration
    )
    yield GaugeMetricFamily("stampede_harness_users", "Locust users running.", value=users)
