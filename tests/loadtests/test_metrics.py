from __future__ import annotations

import random

import pytest
from gevent.timeout import Timeout

from loadtests.metrics import (
    CORRECTED_US,
    HIGHEST,
    LATE_SENDS,
    ORDER_COUNT_10S,
    RAW_US,
    USED_WEIGHT_1M,
    Metrics,
    Outcome,
    SeriesKey,
    Tally,
    classify,
    decode_histogram,
    encode_histogram,
    new_histogram,
    percentiles_of,
    record_rate_limit_headers,
    record_request,
)

UNKNOWN = "Unknown error, please check your request or try again later."
RECV_WINDOW = "Timestamp for this request is outside of the recvWindow."
INTERNAL = "Internal error; unable to process your request. Please try again."


@pytest.mark.parametrize(
    ("status", "code", "msg", "exception", "outcome"),
    [
        (200, None, None, None, Outcome.SUCCESS),
        (200, 200, "success", None, Outcome.SUCCESS),
        (429, -1003, "Too many requests", None, Outcome.RATE_LIMITED_429),
        (429, -1015, "Too many new orders", None, Outcome.RATE_LIMITED_429),
        (418, -1003, "Way too many requests; IP banned until 1", None, Outcome.BANNED_418),
        (408, -1007, "Timeout waiting for response", None, Outcome.TIMEOUT_408),
        (408, None, None, None, Outcome.TIMEOUT_408),
        (503, -1007, "Timeout", None, Outcome.TIMEOUT_408),
        (503, -1000, UNKNOWN, None, Outcome.UNAVAILABLE_503_UNKNOWN),
        (503, None, "Service Unavailable.", None, Outcome.UNAVAILABLE_503),
        # Binance's "internal error, try again", as the venue answers while its store is down.
        (503, -1001, INTERNAL, None, Outcome.UNAVAILABLE_503),
        (503, None, None, None, Outcome.UNAVAILABLE_503_UNKNOWN),
        (503, -1008, "Server is currently overloaded", None, Outcome.THROTTLED_1008),
        (400, -2019, "Margin is insufficient.", None, Outcome.REJECTED),
        (400, -1021, RECV_WINDOW, None, Outcome.EXPIRED_1021),
        (401, -1021, None, None, Outcome.EXPIRED_1021),
        (400, -1022, "Signature for this request is not valid.", None, Outcome.REJECTED),
        (400, None, None, None, Outcome.OTHER),
        (500, -1000, "An unknown error occurred", None, Outcome.OTHER),
        (0, None, None, TimeoutError("read timed out"), Outcome.CLIENT_TIMEOUT),
        (0, None, None, Timeout(), Outcome.CLIENT_TIMEOUT),
        (None, None, None, ConnectionRefusedError(), Outcome.CONNECTION_ERROR),
        (None, None, None, ConnectionResetError(), Outcome.CONNECTION_ERROR),
        (None, None, None, ValueError("bad json"), Outcome.OTHER),
    ],
)
def test_classify_tells_every_failure_kind_apart(
    status: int | None,
    code: int | None,
    msg: str | None,
    exception: BaseException | None,
    outcome: Outcome,
) -> None:
    assert classify(status, code, msg, exception) is outcome


def test_percentiles_of_a_known_distribution_hold_three_significant_digits() -> None:
    histogram = new_histogram()
    for ms in range(1, 10_001):
        histogram.record_value(ms * 1000)
    summary = percentiles_of(histogram, unit=1000)
    assert summary is not None
    assert summary.p50 == pytest.approx(5000, rel=1e-3)
    assert summary.p90 == pytest.approx(9000, rel=1e-3)
    assert summary.p99 == pytest.approx(9900, rel=1e-3)
    assert summary.p99_9 == pytest.approx(9990, rel=1e-3)
    assert summary.max == pytest.approx(10_000, rel=1e-3)


def test_an_empty_histogram_has_no_percentiles() -> None:
    assert percentiles_of(new_histogram()) is None
    assert Tally().percentiles(CORRECTED_US) is None


def test_a_request_records_corrected_and_raw_latency_and_lateness() -> None:
    tally = Tally()
    # Sent 0.2 s after its intended time, answered 0.05 s after that.
    record_request(tally, Outcome.SUCCESS, intended=10.0, sent=10.2, done=10.25)
    record_request(tally, Outcome.TIMEOUT_408, intended=11.0, sent=11.001, done=16.0)
    assert tally.counts == {Outcome.SUCCESS: 1, Outcome.TIMEOUT_408: 1, LATE_SENDS: 1}
    corrected, raw = tally.percentiles(CORRECTED_US, 1000), tally.percentiles(RAW_US, 1000)
    assert corrected is not None and raw is not None
    assert corrected.p50 == pytest.approx(250, rel=1e-3)
    assert raw.p50 == pytest.approx(50, rel=1e-3)
    assert corrected.max == pytest.approx(5000, rel=1e-3)


def test_out_of_range_values_are_clamped_not_dropped() -> None:
    tally = Tally()
    tally.observe(CORRECTED_US, HIGHEST * 10)
    tally.observe(CORRECTED_US, -5)
    assert tally.total(CORRECTED_US) == 2
    summary = tally.percentiles(CORRECTED_US)
    assert summary is not None
    assert summary.max == pytest.approx(HIGHEST, rel=1e-3)
    assert summary.p50 == 0


def test_a_histogram_survives_encoding() -> None:
    histogram = new_histogram()
    for value in (3, 70, 900, 12_000, 5_000_000):
        histogram.record_value(value)
    copy = decode_histogram(encode_histogram(histogram))
    assert copy.get_total_count() == 5
    assert percentiles_of(copy) == percentiles_of(histogram)


def test_distributed_metrics_merge_to_what_one_process_measures() -> None:
    rng = random.Random(11)
    local, master = Metrics(), Metrics()
    workers = [Metrics() for _ in range(3)]
    keys = [SeriesKey(0, "calm", "orders"), SeriesKey(1, "surge", "queries", "BTCUSDT")]
    for i in range(6_000):
        key = rng.choice(keys)
        intended = i / 100
        sent = intended + rng.expovariate(1 / 0.005)
        done = sent + rng.lognormvariate(-4, 1.2)
        outcome = rng.choice([Outcome.SUCCESS, Outcome.SUCCESS, Outcome.RATE_LIMITED_429])
        weight = {"X-MBX-USED-WEIGHT-1M": str(rng.randrange(2400))}
        for metrics in (local, rng.choice(workers)):
            record_request(metrics.tally(key), outcome, intended=intended, sent=sent, done=done)
            record_rate_limit_headers(metrics.tally(key), weight)
        if rng.random() < 0.002:  # workers ship at arbitrary moments
            worker = rng.choice(workers)
            master.merge(worker.drain().model_dump())
    for worker in workers:
        master.merge(worker.drain())

    assert [key for key, _ in master.items()] == [key for key, _ in local.items()]
    for (_, merged), (_, alone) in zip(master.items(), local.items(), strict=True):
        assert merged.counts == alone.counts
        assert merged.peaks == alone.peaks
        for name in (CORRECTED_US, RAW_US):
            assert merged.percentiles(name) == alone.percentiles(name)
            assert list(merged.histograms[name].counts) == list(alone.histograms[name].counts)


def test_drain_ships_everything_once() -> None:
    metrics = Metrics()
    metrics.tally(SeriesKey(0, "calm", "orders")).count(Outcome.SUCCESS)
    first, second = metrics.drain(), metrics.drain()
    assert len(first.series) == 1
    assert second.series == []


def test_rate_limit_usage_keeps_the_peak_whatever_the_header_case() -> None:
    tally = Tally()
    record_rate_limit_headers(tally, {"x-mbx-used-weight-1m": "120", "Content-Length": "2"})
    record_rate_limit_headers(tally, {"X-MBX-USED-WEIGHT-1M": "80", "X-MBX-ORDER-COUNT-10S": "7"})
    record_rate_limit_headers(tally, {"X-MBX-USED-WEIGHT-1M": "not a number"})
    assert tally.peaks == {USED_WEIGHT_1M: 120, ORDER_COUNT_10S: 7}


class _Wrapped(Exception):
    """What geventhttpclient raises once it gives up: the cause rides along as `original`."""

    def __init__(self, original: BaseException) -> None:
        super().__init__("retries exceeded")
        self.original = original


def test_a_wrapped_client_error_is_judged_by_its_cause() -> None:
    assert classify(None, exception=_Wrapped(TimeoutError("timed out"))) is Outcome.CLIENT_TIMEOUT
    assert classify(None, exception=_Wrapped(ConnectionRefusedError())) is (
        Outcome.CONNECTION_ERROR
    )
