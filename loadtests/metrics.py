"""What a run measures, per step and series, in a form that merges exactly across processes.

A `Tally` is counts, peaks and HDR histograms under names; a `Metrics` registry keeps one per
(step, series, symbol). Requests are keyed by the step of their *intended* send time, so a
request that a slow exchange pushes past a step boundary still counts against the load that
caused it. Latency is recorded twice, in microseconds: corrected (from the intended send time)
and raw (from the actual send).

Locust workers ship what they measured as text (`Metrics.drain`: histograms encoded by hdrh,
base64) and the master adds it up (`Metrics.merge`). Histogram addition is exact bucket by
bucket, so a distributed run's percentiles are the ones one process would have measured.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, NamedTuple

from hdrh.histogram import HdrHistogram
from pydantic import BaseModel, ConfigDict

from loadtests.pacing import is_late
from loadtests.recorded import Recorded

LOWEST = 1
HIGHEST = 600_000_000
"""Ten minutes in microseconds. Larger values are recorded as this: a request that slow has
failed by any standard, and it still counts."""
SIGNIFICANT_FIGURES = 3

CORRECTED_US = "corrected_us"
"""Histogram: done − intended send time."""
RAW_US = "raw_us"
"""Histogram: done − actual send time."""
LATE_SENDS = "late_sends"
RETRIES = "retries"
"""Count: attempts beyond the first, over the requests recorded: the load the clients' retry
policy added to what the profile offered."""

USED_WEIGHT_1M = "used_weight_1m"
ORDER_COUNT_10S = "order_count_10s"
ORDER_COUNT_1M = "order_count_1m"
RATE_LIMIT_HEADERS = {
    "x-mbx-used-weight-1m": USED_WEIGHT_1M,
    "x-mbx-order-count-10s": ORDER_COUNT_10S,
    "x-mbx-order-count-1m": ORDER_COUNT_1M,
}
"""Binance's rate-limit usage headers (lower-cased) and the peaks they are kept as."""


class Outcome(StrEnum):
    """How a request ended, as a client must tell them apart."""

    SUCCESS = "success"
    REJECTED = "rejected"
    """A 4xx with a Binance code (margin insufficient, bad precision...) other than -1021: the
    exchange was up and decided; not a capacity failure."""
    RATE_LIMITED_429 = "rate_limited_429"
    BANNED_418 = "banned_418"
    TIMEOUT_408 = "timeout_408"
    """HTTP 408 or -1007: the order may still execute."""
    EXPIRED_1021 = "expired_1021"
    """A 4xx with -1021: refused unexecuted because it reached the exchange after its
    recvWindow: it waited too long on the way (a queue, not a bad request)."""
    UNAVAILABLE_503_UNKNOWN = "unavailable_503_unknown"
    """503 "Unknown error, please check your request or try again later.", or any 503 not known
    to be safe: the request may have executed."""
    UNAVAILABLE_503 = "unavailable_503"
    """503 "Service Unavailable.", or 503 -1001 "Internal error; unable to process your
    request. Please try again." (the venue lost its store or a part behind the API): the
    request did not execute, and the client may send it again."""
    THROTTLED_1008 = "throttled_1008"
    """-1008, system-level throttling: refused before execution."""
    CLIENT_TIMEOUT = "client_timeout"
    CONNECTION_ERROR = "connection_error"
    OTHER = "other"


OUTCOME_LABELS: dict[Outcome, str] = {
    Outcome.SUCCESS: "success",
    Outcome.REJECTED: "rejected",
    Outcome.RATE_LIMITED_429: "429 rate limited",
    Outcome.BANNED_418: "418 banned",
    Outcome.TIMEOUT_408: "408 / -1007 timeout",
    Outcome.EXPIRED_1021: "-1021 past recvWindow",
    Outcome.UNAVAILABLE_503_UNKNOWN: "503 unknown",
    Outcome.UNAVAILABLE_503: "503 unavailable",
    Outcome.THROTTLED_1008: "-1008 throttled",
    Outcome.CLIENT_TIMEOUT: "client timeout",
    Outcome.CONNECTION_ERROR: "connection error",
    Outcome.OTHER: "other",
}
"""Each outcome as the report names it."""

SERVICE_UNAVAILABLE_MSG = "Service Unavailable."
INTERNAL_ERROR_CODE = -1001
"""Binance's DISCONNECTED: "Internal error; unable to process your request. Please try
again." Refused, not executed."""


def classify(
    status: int | None,
    body_code: int | None = None,
    body_msg: str | None = None,
    exception: BaseException | None = None,
) -> Outcome:
    """The outcome of one request, from what the client saw: the HTTP status (None or 0 when no
    response came), the `code` and `msg` of a Binance error body, and the exception raised."""
    if exception is not None and not status:
        exception = _cause(exception)
        if _is_timeout(exception):
            return Outcome.CLIENT_TIMEOUT
        if isinstance(exception, OSError):
            return Outcome.CONNECTION_ERROR
        return Outcome.OTHER
    if status == 429:
        return Outcome.RATE_LIMITED_429
    if status == 418:
        return Outcome.BANNED_418
    if status == 408 or body_code == -1007:
        return Outcome.TIMEOUT_408
    if body_code == -1008:
        return Outcome.THROTTLED_1008
    if status == 503:
        if body_code == INTERNAL_ERROR_CODE or (
            body_msg is not None and body_msg.startswith(SERVICE_UNAVAILABLE_MSG)
        ):
            return Outcome.UNAVAILABLE_503
        return Outcome.UNAVAILABLE_503_UNKNOWN
    if status is not None and 200 <= status < 300:
        return Outcome.SUCCESS
    if status is not None and 400 <= status < 500 and body_code is not None:
        return Outcome.EXPIRED_1021 if body_code == -1021 else Outcome.REJECTED
    return Outcome.OTHER


def _cause(exception: BaseException) -> BaseException:
    """The error a client wrapped: geventhttpclient (under Locust's FastHttpUser) raises
    `RetriesExceeded(original=<the timeout or socket error>)`, and the wrapper says nothing."""
    original = getattr(exception, "original", None)
    return original if isinstance(original, BaseException) else exception


def _is_timeout(exception: BaseException) -> bool:
    # gevent's Timeout (what Locust's FastHttpUser raises) derives from BaseException, not
    # TimeoutError; matching it by name keeps gevent out of this module and of the report.
    return isinstance(exception, TimeoutError) or any(
        cls.__name__ == "Timeout" and cls.__module__.startswith("gevent")
        for cls in type(exception).__mro__
    )


class Percentiles(BaseModel):
    """A distribution's summary, in the unit the field holding it names."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    p50: float
    p90: float
    p99: float
    p99_9: float
    max: float


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST, HIGHEST, SIGNIFICANT_FIGURES)


def encode_histogram(histogram: HdrHistogram) -> str:
    """hdrh's compressed V2 encoding, base64: the text that travels and lands in .hdr files."""
    encoded: bytes = histogram.encode()
    return encoded.decode("ascii")


def decode_histogram(text: str) -> HdrHistogram:
    histogram = new_histogram()
    histogram.decode_and_add(text)
    return histogram


def percentiles_of(histogram: HdrHistogram, unit: float = 1.0) -> Percentiles | None:
    """p50/p90/p99/p99.9/max divided by `unit` (1000 turns microseconds into milliseconds);
    None for an empty histogram, which has no percentiles."""
    recorded = Recorded(histogram)
    if recorded.total == 0:
        return None
    return Percentiles(
        p50=recorded.value_at_percentile(50) / unit,
        p90=recorded.value_at_percentile(90) / unit,
        p99=recorded.value_at_percentile(99) / unit,
        p99_9=recorded.value_at_percentile(99.9) / unit,
        max=histogram.get_max_value() / unit,
    )


class TallyWire(BaseModel):
    """A tally as plain data, for Locust's worker-to-master messages."""

    model_config = ConfigDict(extra="forbid")

    counts: dict[str, int] = {}
    peaks: dict[str, int] = {}
    histograms: dict[str, str] = {}


class Tally:
    """Named counts (added when merged), peaks (maxed) and histograms (added)."""

    __slots__ = ("counts", "histograms", "peaks")

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.peaks: dict[str, int] = {}
        self.histograms: dict[str, HdrHistogram] = {}

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def peak(self, name: str, value: int) -> None:
        self.peaks[name] = max(self.peaks.get(name, value), value)

    def observe(self, name: str, value: float) -> None:
        """Record one value in the histogram's unit, clamped to [0, HIGHEST]."""
        histogram = self.histograms.get(name)
        if histogram is None:
            histogram = self.histograms[name] = new_histogram()
        histogram.record_value(min(HIGHEST, max(0, round(value))))

    def total(self, name: str) -> int:
        """How many values the histogram `name` holds."""
        histogram = self.histograms.get(name)
        return 0 if histogram is None else int(histogram.get_total_count())

    def percentiles(self, name: str, unit: float = 1.0) -> Percentiles | None:
        histogram = self.histograms.get(name)
        return None if histogram is None else percentiles_of(histogram, unit)

    @property
    def empty(self) -> bool:
        return not (self.counts or self.peaks or self.histograms)

    def merge(self, other: Tally) -> None:
        for name, n in other.counts.items():
            self.count(name, n)
        for name, value in other.peaks.items():
            self.peak(name, value)
        for name, histogram in other.histograms.items():
            mine = self.histograms.get(name)
            if mine is None:
                mine = self.histograms[name] = new_histogram()
            mine.add(histogram)

    @classmethod
    def combine(cls, tallies: Iterable[Tally]) -> Tally:
        combined = cls()
        for tally in tallies:
            combined.merge(tally)
        return combined

    def to_wire(self) -> TallyWire:
        return TallyWire(
            counts=dict(self.counts),
            peaks=dict(self.peaks),
            histograms={name: encode_histogram(h) for name, h in self.histograms.items()},
        )

    @classmethod
    def from_wire(cls, wire: TallyWire) -> Tally:
        tally = cls()
        tally.counts = dict(wire.counts)
        tally.peaks = dict(wire.peaks)
        tally.histograms = {name: decode_histogram(t) for name, t in wire.histograms.items()}
        return tally


def record_request(
    tally: Tally,
    outcome: Outcome,
    *,
    intended: float,
    sent: float,
    done: float,
    attempts: int = 1,
) -> None:
    """One request's final outcome after `attempts` tries, its lateness and latencies; times
    in seconds on one clock, `sent` being the first attempt's."""
    tally.count(outcome)
    if attempts > 1:
        tally.count(RETRIES, attempts - 1)
    if is_late(intended, sent):
        tally.count(LATE_SENDS)
    tally.observe(CORRECTED_US, (done - intended) * 1e6)
    tally.observe(RAW_US, (done - sent) * 1e6)


def header_ints(headers: Mapping[str, str], names: Iterable[str]) -> dict[str, int]:
    """The integer values of the headers `names` (lower-case) found in `headers`, matched
    case-insensitively; missing or non-integer headers are left out."""
    wanted = set(names)
    found: dict[str, int] = {}
    for name, value in headers.items():
        key = name.lower()
        if key in wanted:
            try:
                found[key] = int(value)
            except ValueError:
                continue
    return found


def record_rate_limit_headers(tally: Tally, headers: Mapping[str, str]) -> None:
    """Keep the highest rate-limit usage the exchange reported: the headroom left at the peak."""
    for header, value in header_ints(headers, RATE_LIMIT_HEADERS).items():
        tally.peak(RATE_LIMIT_HEADERS[header], value)


class SeriesKey(NamedTuple):
    """Which tally: a step (phase) of the profile, a series (a request class, or the feed),
    and a symbol where the series is kept per symbol."""

    step_index: int
    step: str
    series: str
    symbol: str | None = None

    def sort_key(self) -> tuple[int, str, str]:
        return self.step_index, self.series, self.symbol or ""


class SeriesWire(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: SeriesKey
    tally: TallyWire


class MetricsWire(BaseModel):
    """What a worker ships to the master: the tallies measured since its last shipment."""

    model_config = ConfigDict(extra="forbid")

    series: list[SeriesWire] = []


class Metrics:
    """Every tally of a run (or of one worker's share of it), by `SeriesKey`."""

    def __init__(self) -> None:
        self._tallies: dict[SeriesKey, Tally] = {}

    def tally(self, key: SeriesKey) -> Tally:
        tally = self._tallies.get(key)
        if tally is None:
            tally = self._tallies[key] = Tally()
        return tally

    def items(self) -> list[tuple[SeriesKey, Tally]]:
        return sorted(self._tallies.items(), key=lambda item: item[0].sort_key())

    def drain(self) -> MetricsWire:
        """Everything measured so far, as data, and start afresh: shipped deltas add up to
        the whole run however often a worker ships."""
        wire = MetricsWire(
            series=[
                SeriesWire(key=key, tally=tally.to_wire())
                for key, tally in self.items()
                if not tally.empty
            ]
        )
        self._tallies = {}
        return wire

    def merge(self, wire: MetricsWire | Mapping[str, Any]) -> None:
        """Add a shipment in, as `drain` made it or as its plain-data dump."""
        shipment = MetricsWire.model_validate(wire)
        for series in shipment.series:
            self.tally(series.key).merge(Tally.from_wire(series.tally))
