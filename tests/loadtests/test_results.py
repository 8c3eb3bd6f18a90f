from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import JsonValue

from loadtests.depthwatch import (
    DEPTH,
    TOP_OFF_TICKS,
    Top,
    record_depth_event,
    record_resync,
    record_top,
)
from loadtests.feedwatch import FEED, FEED_LAG_US, record_event, record_liquidations
from loadtests.metrics import (
    CORRECTED_US,
    Metrics,
    Outcome,
    SeriesKey,
    Tally,
    percentiles_of,
    record_rate_limit_headers,
    record_request,
)
from loadtests.profiles import Profile, RequestClass, load_profile
from loadtests.results import (
    TIMELINE_FILE,
    HistogramKey,
    MarketSample,
    ResultsError,
    append_timeline,
    finish_run,
    read_run,
    start_run,
    summarize,
)
from loadtests.staleness import ReadKind, ReadVerdict, record_read

ORIGIN = 1_760_130_000.0
AUDIT = {
    "passed": True,
    "quiet": True,
    "cash_conserved": True,
    "positions_balanced": True,
    "seeded": 10_000_000_000_000,
    "net_positions": {"BTCUSDT": 0},
}


@pytest.fixture
def profile() -> Profile:
    return load_profile("step-ramp")


def _measured(profile: Profile) -> Metrics:
    """Two steps of a step ramp: orders and probe reads in x1, a feed per symbol in x2."""
    metrics = Metrics()
    orders = metrics.tally(SeriesKey(0, "x1", RequestClass.ORDERS))
    for i in range(240):
        outcome = Outcome.SUCCESS if i % 4 else Outcome.RATE_LIMITED_429
        intended = i * 0.25
        record_request(orders, outcome, intended=intended, sent=intended, done=intended + 0.02)
    record_rate_limit_headers(orders, {"X-MBX-USED-WEIGHT-1M": "2310"})
    queries = metrics.tally(SeriesKey(0, "x1", RequestClass.QUERIES))
    for kind in (ReadKind.FRESH, ReadKind.FRESH, ReadKind.STALE, ReadKind.INCONSISTENT):
        record_read(queries, ReadVerdict(kind, 0.4 if kind is ReadKind.STALE else None))
    for symbol, seen in (("BTCUSDT", 5), ("ETHUSDT", 2)):
        feed = metrics.tally(SeriesKey(1, "x2", FEED, symbol))
        for second in range(seen):
            record_event(
                feed,
                event_time_ms=int(ORIGIN + 60 + second) * 1000,
                received_at=ORIGIN + 60 + second + 0.3,
            )
        record_liquidations(feed, 10)
    return metrics


def test_every_step_has_a_row_per_request_class_even_when_nothing_was_measured(
    profile: Profile,
) -> None:
    rows = summarize(Metrics(), profile.timeline(), origin=ORIGIN)
    assert len(rows) == len(profile.phases) * len(RequestClass)
    last = rows[-1]
    assert (last.step, last.index) == ("x1000", 9)
    assert last.requests == 0 and last.achieved_rate == 0
    assert last.offered_rate == pytest.approx(profile.baseline.queries * 1000)
    assert last.corrected_ms is None


def test_a_step_row_carries_rates_outcomes_latency_and_headroom(profile: Profile) -> None:
    rows = summarize(_measured(profile), profile.timeline(), origin=ORIGIN)
    orders = next(r for r in rows if (r.index, r.series) == (0, RequestClass.ORDERS))
    assert (orders.start, orders.end) == (ORIGIN, ORIGIN + 60)
    assert orders.multipliers_start.orders == orders.multipliers_end.orders == 1
    assert orders.offered_rate == pytest.approx(5)
    assert orders.achieved_rate == pytest.approx(180 / 60)
    assert orders.requests == 240
    assert orders.outcomes[Outcome.RATE_LIMITED_429] == 60
    assert orders.outcomes[Outcome.BANNED_418] == 0
    assert orders.share(Outcome.RATE_LIMITED_429, Outcome.BANNED_418) == pytest.approx(0.25)
    assert orders.corrected_ms is not None
    assert orders.corrected_ms.p99 == pytest.approx(20, rel=1e-3)
    assert orders.used_weight_max == 2310
    assert orders.order_count_1m_max is None


def test_retries_are_counted_per_step_and_class_apart_from_the_requests(
    profile: Profile, tmp_path: Path
) -> None:
    metrics = Metrics()
    orders = metrics.tally(SeriesKey(1, "x2", RequestClass.ORDERS))
    for attempts in (1, 3, 5):
        record_request(
            orders, Outcome.SUCCESS, intended=60.0, sent=60.0, done=60.1, attempts=attempts
        )
    record_request(
        metrics.tally(SeriesKey(1, "x2", RequestClass.QUERIES)),
        Outcome.UNAVAILABLE_503,
        intended=61.0,
        sent=61.0,
        done=61.1,
    )
    start_run(tmp_path, profile, {})
    finish_run(tmp_path, metrics, profile.timeline(), origin=ORIGIN)
    rows = {(row.index, row.series): row for row in read_run(tmp_path).steps}
    assert rows[(1, RequestClass.ORDERS)].retries == 2 + 4
    assert rows[(1, RequestClass.ORDERS)].requests == 3  # each request once, retried or not
    assert rows[(1, RequestClass.QUERIES)].retries == 0
    assert rows[(0, RequestClass.ORDERS)].retries == 0


def test_steps_written_before_retries_were_counted_read_as_no_retries(
    profile: Profile, tmp_path: Path
) -> None:
    start_run(tmp_path, profile, {})
    (row,) = finish_run(tmp_path, Metrics(), profile.timeline(), origin=ORIGIN)[:1]
    older = row.model_dump(mode="json", exclude={"retries"})
    (tmp_path / "steps.jsonl").write_text(json.dumps(older) + "\n")
    assert read_run(tmp_path).steps[0].retries == 0


def test_a_depth_stream_row_carries_its_lag_gaps_resyncs_and_top_and_reads_back(
    profile: Profile, tmp_path: Path
) -> None:
    start_run(tmp_path, profile, {})
    metrics = Metrics()
    depth = metrics.tally(SeriesKey(0, "x1", DEPTH, "BTCUSDT"))
    record_depth_event(depth, event_time_ms=1_000, received_at=1.05)
    record_depth_event(depth, event_time_ms=1_000, received_at=1.25, gap=True)
    record_resync(depth)
    tick = Decimal("0.1")
    top = Top(Decimal(100), Decimal("100.1"))
    record_top(depth, top, top, tick)
    record_top(depth, top, Top(Decimal("99.8"), top.ask), tick)
    finish_run(tmp_path, metrics, profile.timeline(), origin=ORIGIN)
    run = read_run(tmp_path)
    rows = {(row.series, row.symbol): row for row in run.steps if row.index == 0}
    for row in (rows[(DEPTH, "BTCUSDT")], rows[(DEPTH, None)]):
        assert (row.feed_events, row.depth_gaps, row.depth_resyncs) == (2, 1, 1)
        assert (row.top_samples, row.top_different) == (2, 1)
        assert row.feed_lag_ms is not None and row.feed_lag_ms.max == pytest.approx(250, 1e-3)
        assert row.top_off_ticks is not None and row.top_off_ticks.max == 2
    names = {(key.series.series, key.name) for key in run.histogram_files}
    assert {(DEPTH, FEED_LAG_US), (DEPTH, TOP_OFF_TICKS)} <= names


def test_steps_written_before_the_depth_stream_was_followed_read_as_none_of_it(
    profile: Profile, tmp_path: Path
) -> None:
    start_run(tmp_path, profile, {})
    (row,) = finish_run(tmp_path, Metrics(), profile.timeline(), origin=ORIGIN)[:1]
    fields = {"depth_gaps", "depth_resyncs", "top_samples", "top_different", "top_off_ticks"}
    older = row.model_dump(mode="json", exclude=fields)
    (tmp_path / "steps.jsonl").write_text(json.dumps(older) + "\n")
    (back,) = read_run(tmp_path).steps
    assert (back.depth_gaps, back.top_samples, back.top_off_ticks) == (0, 0, None)


def test_steps_written_before_an_outcome_existed_read_as_none_of_it(
    profile: Profile, tmp_path: Path
) -> None:
    start_run(tmp_path, profile, {})
    metrics = Metrics()
    orders = metrics.tally(SeriesKey(0, "x1", RequestClass.ORDERS))
    for outcome in (Outcome.SUCCESS, Outcome.TIMEOUT_408):
        record_request(orders, outcome, intended=1.0, sent=1.0, done=1.1)
    rows = finish_run(tmp_path, metrics, profile.timeline(), origin=ORIGIN)
    row = next(row for row in rows if row.series == RequestClass.ORDERS)
    older = row.model_dump(mode="json")
    del older["outcomes"][Outcome.EXPIRED_1021]
    (tmp_path / "steps.jsonl").write_text(json.dumps(older) + "\n")

    (back,) = read_run(tmp_path).steps
    assert back.outcomes[Outcome.EXPIRED_1021] == 0
    assert back.share(Outcome.TIMEOUT_408, Outcome.EXPIRED_1021) == 0.5


def test_a_queries_row_carries_staleness(profile: Profile) -> None:
    rows = summarize(_measured(profile), profile.timeline(), origin=ORIGIN)
    queries = next(r for r in rows if (r.index, r.series) == (0, RequestClass.QUERIES))
    assert (queries.reads, queries.stale_reads, queries.inconsistent_reads) == (4, 1, 1)
    assert queries.stale_rate == pytest.approx(0.25)
    assert queries.stale_age_ms is not None
    assert queries.stale_age_ms.p50 == pytest.approx(400, rel=1e-3)


def test_the_feed_gets_an_overall_row_then_one_per_symbol(profile: Profile) -> None:
    rows = summarize(_measured(profile), profile.timeline(), origin=ORIGIN)
    feed = [r for r in rows if r.series == FEED]
    assert [(r.index, r.symbol) for r in feed] == [(1, None), (1, "BTCUSDT"), (1, "ETHUSDT")]
    overall, btc, _ = feed
    assert overall.completeness == pytest.approx(7 / 20)
    assert btc.completeness == pytest.approx(5 / 10)
    assert overall.feed_lag_ms is not None
    assert overall.feed_lag_ms.p50 == pytest.approx(300, rel=1e-3)
    assert overall.offered_rate is None and overall.achieved_rate is None


def test_metrics_for_a_step_the_profile_lacks_are_refused(profile: Profile) -> None:
    metrics = Metrics()
    metrics.tally(SeriesKey(0, "x3", RequestClass.ORDERS)).count(Outcome.SUCCESS)
    with pytest.raises(ValueError, match="not in the profile"):
        summarize(metrics, profile.timeline(), origin=ORIGIN)


def test_a_run_directory_reads_back_as_written(profile: Profile, tmp_path: Path) -> None:
    run = tmp_path / "run"
    settings: dict[str, JsonValue] = {"target": "http://127.0.0.1:8000", "workers": 2}
    start_run(run, profile, settings, time_scale=4)
    metrics = _measured(profile)
    timeline = profile.timeline(time_scale=4)
    steps = finish_run(run, metrics, timeline, origin=ORIGIN, audit=AUDIT)
    (run / "locust_stats.csv").write_text("Type,Name\n")

    result = read_run(run)
    assert result.profile == profile.model_copy(update={"time_scale": 4})
    assert result.settings == settings
    assert list(result.steps) == steps
    assert result.audit is not None and result.audit.passed
    assert result.audit.model_extra == {
        "seeded": AUDIT["seeded"],
        "net_positions": AUDIT["net_positions"],
    }
    assert result.locust_csvs == (run / "locust_stats.csv",)

    orders = SeriesKey(0, "x1", RequestClass.ORDERS)
    written = HistogramKey(orders, CORRECTED_US)
    assert written in result.histogram_files
    original = metrics.tally(orders).histograms[CORRECTED_US]
    assert percentiles_of(result.histogram(written)) == percentiles_of(original)
    feed_keys = {key.series for key in result.histogram_files if key.series.series == FEED}
    assert feed_keys == {SeriesKey(1, "x2", FEED, "BTCUSDT"), SeriesKey(1, "x2", FEED, "ETHUSDT")}


def test_a_run_without_an_audit_reads_back_without_one(profile: Profile, tmp_path: Path) -> None:
    start_run(tmp_path, profile, {})
    finish_run(tmp_path, Metrics(), profile.timeline(), origin=ORIGIN)
    result = read_run(tmp_path)
    assert result.audit is None
    assert result.histogram_files == {}


def test_the_market_timeline_is_appended_second_by_second_and_reads_back(
    profile: Profile, tmp_path: Path
) -> None:
    start_run(tmp_path, profile, {})
    first = MarketSample(
        at=0.0,
        symbol="BTCUSDT",
        price=Decimal("122574.50"),
        mark=Decimal("122570.10"),
        index=None,
        liquidations=0,
        feed_liquidations=0,
    )
    second = first.model_copy(update={"at": 1.0, "mark": Decimal("112764.90"), "liquidations": 9})
    append_timeline(tmp_path, [first])
    append_timeline(tmp_path, [second])
    finish_run(tmp_path, Metrics(), profile.timeline(), origin=ORIGIN)

    assert read_run(tmp_path).timeline == (first, second)
    # Prices stay exact on disk: strings, not floats.
    assert '"mark":"112764.90"' in (tmp_path / TIMELINE_FILE).read_text()


def test_a_run_that_sampled_no_timeline_reads_back_with_none(
    profile: Profile, tmp_path: Path
) -> None:
    start_run(tmp_path, profile, {})
    finish_run(tmp_path, Metrics(), profile.timeline(), origin=ORIGIN)
    assert read_run(tmp_path).timeline == ()


def test_a_run_directory_is_never_reused(profile: Profile, tmp_path: Path) -> None:
    start_run(tmp_path, profile, {})
    with pytest.raises(ResultsError, match="already holds a run"):
        start_run(tmp_path, profile, {})


def test_reading_a_directory_that_is_not_a_run_names_the_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match=r"no profile\.yaml"):
        read_run(tmp_path)


def test_a_corrupt_steps_file_is_a_results_error(profile: Profile, tmp_path: Path) -> None:
    start_run(tmp_path, profile, {})
    (tmp_path / "steps.jsonl").write_text('{"step": "x1"}\n')
    with pytest.raises(ResultsError, match="index"):
        read_run(tmp_path)


@pytest.mark.parametrize(
    "key",
    [
        SeriesKey(0, "x1", "orders"),
        SeriesKey(12, "peak-minute", "feed", "BTCUSDT"),
    ],
)
def test_histogram_file_names_parse_back_to_their_key(key: SeriesKey) -> None:
    histogram = HistogramKey(key, "corrected_us")
    assert HistogramKey.parse(histogram.file_name) == histogram


def test_a_stray_histogram_file_name_is_refused() -> None:
    with pytest.raises(ResultsError, match="not one a run writes"):
        HistogramKey.parse("notes.hdr")


def test_tallies_summarized_are_left_unchanged(profile: Profile) -> None:
    metrics = _measured(profile)
    before = Tally.combine(t for _, t in metrics.items()).counts
    summarize(metrics, profile.timeline(), origin=ORIGIN)
    assert Tally.combine(t for _, t in metrics.items()).counts == before
