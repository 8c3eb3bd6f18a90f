"""One process's metrics, and how they are exposed to Prometheus.

Names are `stampede_exchange_*`, with the unit in the name (`_seconds`, `_usdt`, `_total`).
Labels with a known, small set of values (symbols, refusal kinds, ack outcomes) are created up
front, so every series exists at zero from the first scrape: a panel shows "0 liquidations", not
"no data", and a rate over it is defined from the start.

Where a scrape lands decides how values are exposed:

- A process serving on a port of its own (one API worker, or a role in its own container) keeps
  its values in memory and exposes them itself; several such processes are several scrape
  targets, which Prometheus adds up.
- `stampede exchange --workers N` runs N uvicorn workers behind one port, plus a process for the
  other roles; a scrape reaches whichever worker accepts it. There `server.serve` gives its
  children prometheus-client's multiprocess mode (a shared directory named by
  `PROMETHEUS_MULTIPROC_DIR`, set before they import the library): every process writes its
  values to files there, and any worker's `GET /metrics` adds them all up. Gauges say how
  (`livesum` for in-flight counts, `mostrecent` for the pipeline's state, which one process
  samples).
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
    start_http_server,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus-client's own switch to multiprocess mode, read when it is imported."""

TIME_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip
"""Seconds, from a fast read to well past the API's ack deadline (5 s by default), so requests
answered -1007 land in buckets of their own."""
REDIS_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
)  # fmt: skip
"""Seconds: a Redis round trip on loopback is ~0.1 ms; the injected latency faults add up to
seconds."""


class AckOutcome(StrEnum):
    """How a command sent to the engine ended, as the API saw it."""

    REPLIED = "replied"
    """The engine answered (accepted or rejected) within the deadline."""
    TIMEOUT = "timeout"
    """No answer by the deadline: -1007, and the command may still execute."""
    SHED = "shed"
    """Refused before it was queued, the queue being too deep: -1008."""
    FAILED = "failed"
    """Anything else (Redis unreachable, ...)."""


class Refusal(StrEnum):
    """Why the rate limiter refused a request."""

    LIMIT = "limit"
    """HTTP 429: over a limit; told to wait."""
    BAN = "ban"
    """HTTP 418: banned for sending on while told to wait."""


class Drop(StrEnum):
    """Why the exchange closed a WebSocket client."""

    SLOW_CONSUMER = "slow_consumer"
    FEED_INTERRUPTED = "feed_interrupted"
    """The worker lost its feed subscription; every client of it is closed to reconnect."""


class ApiMetrics:
    """The HTTP edge's: requests, refusals and WebSocket clients (API processes)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "stampede_exchange_requests_total",
            "HTTP requests answered, by route, method and status (refusals at the edge too).",
            ("endpoint", "method", "status"),
            registry=registry,
        )
        self.request_duration = Histogram(
            "stampede_exchange_request_duration_seconds",
            "Time from a request's arrival to the end of its answer.",
            ("endpoint", "method"),
            buckets=TIME_BUCKETS,
            registry=registry,
        )
        self.requests_in_flight = Gauge(
            "stampede_exchange_requests_in_flight",
            "HTTP requests being handled now.",
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.rate_limit_refusals = Counter(
            "stampede_exchange_rate_limit_refusals_total",
            "Requests the rate limiter refused: 429 over a limit (limit), 418 banned (ban).",
            ("kind",),
            registry=registry,
        )
        for refusal in Refusal:
            self.rate_limit_refusals.labels(refusal.value)
        self.ws_clients = Gauge(
            "stampede_exchange_ws_clients",
            "WebSocket clients connected now.",
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.ws_drops = Counter(
            "stampede_exchange_ws_drops_total",
            "WebSocket clients the exchange closed: slow consumers, or a lost feed subscription.",
            ("reason",),
            registry=registry,
        )
        for drop in Drop:
            self.ws_drops.labels(drop.value)


class BusMetrics:
    """The command bus's, in every process that sends commands (the API, the market makers)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.order_ack_duration = Histogram(
            "stampede_exchange_order_ack_duration_seconds",
            "Time from a command's arrival at the bus to the engine's reply (or the deadline).",
            ("outcome",),
            buckets=TIME_BUCKETS,
            registry=registry,
        )
        for outcome in AckOutcome:
            self.order_ack_duration.labels(outcome.value)


class EngineMetrics:
    """The engine's throughput, and the queue in front of it (the engine's process)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.commands = Counter(
            "stampede_exchange_engine_commands_total",
            "Commands the engine applied.",
            registry=registry,
        )
        self.events = Counter(
            "stampede_exchange_engine_events_total",
            "Events the engine journaled.",
            registry=registry,
        )
        self.order_queue_depth = Gauge(
            "stampede_exchange_order_queue_depth",
            "Commands queued in front of the engine.",
            multiprocess_mode="mostrecent",
            registry=registry,
        )


class ProjectorMetrics:
    """The read model's lag and what it holds: the liquidations' truth, the insurance fund and
    the prices (the projector's process)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.lag_events = Gauge(
            "stampede_exchange_projector_lag_events",
            "Journal events the read model does not reflect yet.",
            multiprocess_mode="mostrecent",
            registry=registry,
        )
        self.lag = Gauge(
            "stampede_exchange_projector_lag_seconds",
            "Age of the oldest journal event the read model does not reflect yet.",
            multiprocess_mode="mostrecent",
            registry=registry,
        )
        self.liquidations = Counter(
            "stampede_exchange_liquidations_total",
            "Liquidations the engine made (the truth, however few the feed shows).",
            ("symbol",),
            registry=registry,
        )
        self.liquidated_notional = Counter(
            "stampede_exchange_liquidated_notional_usdt_total",
            "Notional of the positions liquidated, in USDT.",
            ("symbol",),
            registry=registry,
        )
        self.adl = Counter(
            "stampede_exchange_adl_total",
            "Liquidations closed in part by auto-deleveraging profitable positions.",
            ("symbol",),
            registry=registry,
        )
        self.insurance_fund = Gauge(
            "stampede_exchange_insurance_fund_usdt",
            "Cash in the insurance fund, in USDT.",
            multiprocess_mode="mostrecent",
            registry=registry,
        )
        self.mark_price = Gauge(
            "stampede_exchange_mark_price_usdt",
            "Mark price.",
            ("symbol",),
            multiprocess_mode="mostrecent",
            registry=registry,
        )
        self.index_price = Gauge(
            "stampede_exchange_index_price_usdt",
            "Index price (the spot venues' capped median).",
            ("symbol",),
            multiprocess_mode="mostrecent",
            registry=registry,
        )
        self.last_price = Gauge(
            "stampede_exchange_last_price_usdt",
            "Price of the last trade.",
            ("symbol",),
            multiprocess_mode="mostrecent",
            registry=registry,
        )


class FeedMetrics:
    """What the liquidation feed pushed (the feed publisher's process)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.liquidation_messages = Counter(
            "stampede_exchange_liquidation_messages_total",
            "forceOrder messages the feed pushed (at most one per symbol per window).",
            ("symbol",),
            registry=registry,
        )


class RedisMetrics:
    """Every process's Redis round trips."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.command_duration = Histogram(
            "stampede_exchange_redis_command_duration_seconds",
            "Redis round trips of the exchange's traffic, by command (MULTI: a transaction, "
            "PIPELINE: a pipeline), injected latency included.",
            ("command",),
            buckets=REDIS_BUCKETS,
            registry=registry,
        )


def multiprocess() -> bool:
    """Whether this process shares its metrics through prometheus-client's directory: the
    library decided when it was imported, from the environment the process was started with."""
    return values.ValueClass is not values.MutexValue


@functools.cache
def process_registry() -> CollectorRegistry:
    """Where this process's metrics are registered, made on first use: in a worker process that
    is after the multiprocess directory is in its environment."""
    # `_created` timestamps would double every counter's and histogram's series, for nothing a
    # dashboard reads.
    disable_created_metrics()  # type: ignore[no-untyped-call]
    registry = CollectorRegistry()
    if not multiprocess():
        # CPU and memory of this process; in multiprocess mode it would be the scraped one's.
        ProcessCollector(registry=registry)
    return registry


# Each group is made by the first process part that reports it, so a process exports only the
# metrics of the parts it runs: an engine's process has no request counters at zero, and the
# projector's state comes from the projector's process alone.


@functools.cache
def api_metrics() -> ApiMetrics:
    return ApiMetrics(process_registry())


@functools.cache
def bus_metrics() -> BusMetrics:
    return BusMetrics(process_registry())


@functools.cache
def engine_metrics() -> EngineMetrics:
    return EngineMetrics(process_registry())


@functools.cache
def projector_metrics() -> ProjectorMetrics:
    return ProjectorMetrics(process_registry())


@functools.cache
def feed_metrics() -> FeedMetrics:
    return FeedMetrics(process_registry())


@functools.cache
def redis_metrics() -> RedisMetrics:
    return RedisMetrics(process_registry())


@functools.cache
def exposition_registry() -> CollectorRegistry:
    """What a scrape of this process reads: its own metrics, or in multiprocess mode every
    process's, added up from the shared directory at each scrape."""
    if not multiprocess():
        return process_registry()
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


def exposition() -> tuple[bytes, str]:
    """The text a scrape gets, and its content type."""
    return generate_latest(exposition_registry()), CONTENT_TYPE_LATEST


def retire() -> None:
    """This process is ending: in multiprocess mode its live gauges stop counting."""
    if multiprocess():
        mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


@contextmanager
def multiprocess_directory() -> Iterator[dict[str, str]]:
    """A fresh directory for processes to share their metrics through, removed afterwards; yields
    the environment variables that put a process started with them in multiprocess mode."""
    with tempfile.TemporaryDirectory(prefix="stampede-metrics-") as directory:
        yield {MULTIPROCESS_ENV: directory}


@contextmanager
def metrics_endpoint(host: str, port: int) -> Iterator[None]:
    """Serve this process's metrics on `host:port` (any path) from a thread of its own while
    the block runs; with port 0, nothing."""
    if port == 0:
        yield
        return
    server, thread = start_http_server(port, host, registry=exposition_registry())
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
