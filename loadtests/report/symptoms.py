"""The likely bottleneck from client-side symptoms alone.

Against a target without the mock exchange's own telemetry (`bottleneck.py` reads that), the
bottleneck is a heuristic, and is worded as one: it reads which symptom began first (journal
lag with stale reads, order 408s with fast reads, 503s or timeouts while order 408s hold, feed
lag), and names the component each points at with the numbers that show it.
"""

from __future__ import annotations

from loadtests.metrics import Outcome, Percentiles
from loadtests.profiles import RequestClass
from loadtests.report.schema import Bottleneck, Component, SloVerdict, by_step, percentile
from loadtests.report.series import UNAVAILABLE, WAITED_OUT, outcome_share
from loadtests.report.slo import Bound, SloThresholds, begins_at
from loadtests.report.step_words import StepWords
from loadtests.report.units import millis, num, share
from loadtests.results import StepSummary

JOURNAL_LAG_GROWTH = 10
"""Journal lag at this many times its first step's counts as growing: a read model that keeps
up stays within a few events of the journal at any load."""


def _p99(summary: Percentiles | None) -> float | None:
    return percentile(summary, "p99")


def likely_bottlenecks(
    words: StepWords,
    classes: dict[RequestClass, tuple[StepSummary, ...]],
    metrics: dict[str, tuple[float | None, ...]],
    verdicts: dict[str, SloVerdict],
    thresholds: SloThresholds,
) -> tuple[Bottleneck, ...]:
    """Each component a client-side symptom points at, earliest symptom first: the heuristic
    for a target that does not report its own state."""
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
    words: StepWords,
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
        waited = outcome_share(every[timeouts], WAITED_OUT) or 0.0
        found.append(
            (
                timeouts,
                f"-1021s and client timeouts reached {share(waited)} of requests "
                f"{words.at(timeouts)} while order 408s stayed within the SLO: requests wait "
                "in front of the API workers, not for the engine's ack",
            )
        )
    unavailable = [outcome_share(rows, UNAVAILABLE) for rows in every]
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
