"""A cascade the harness watches end to end: the mock opens a crowd of leveraged positions at
genesis, the profile's shock liquidates them by the dozen per second, and the run records how
few of those liquidations the public feed showed (Binance's rule: per symbol, only the latest
liquidation in each 1000 ms window is pushed), step by step and second by second."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from exchange_mock.redis_server import EmbeddedRedis
from exchange_mock.settings import Crowd
from loadtests.feedwatch import FEED
from loadtests.results import MarketSample, RunResult, StepSummary
from tests.loadtests.runs import mock_exchange, profile_file, run_locust

ONCE = "multipliers: {orders: 1, queries: 1, market_data: 1}"
CALM_S, CRASH_S, AFTER_S = 3, 5, 2


@pytest.fixture(scope="module")
def crash(
    redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunResult]:
    tmp_path = tmp_path_factory.mktemp("crash")
    light: dict[str, float] = {"orders": 4, "queries": 4, "market_data": 4}
    profile = profile_file(tmp_path, "crash", light, [
        f"{{name: calm, duration_s: {CALM_S}, {ONCE}, "
        "events: [{type: oracle_mode, mode: spot}]}",
        f"{{name: crash, duration_s: {CRASH_S}, {ONCE}, events: ["
        "{type: price_shock, symbol: BTCUSDT, pct: -8}, {type: depth_withdrawal, pct: 60}]}",
        f"{{name: after, duration_s: {AFTER_S}, {ONCE}}}",
    ])  # fmt: skip
    with mock_exchange(redis_server, tmp_path, crowd=Crowd(accounts=300)) as target:
        yield run_locust(target, profile, tmp_path / "run", "--client-ips", "8")


def _feed(run: RunResult, step: str, symbol: str) -> StepSummary | None:
    """The step's liquidation-feed row for `symbol`; None when the step saw no liquidation
    and no feed event there."""
    rows = (row for row in run.steps if (row.step, row.series, row.symbol) == (step, FEED, symbol))
    return next(rows, None)


def test_a_crash_liquidates_the_crowd_and_the_feed_shows_only_some_of_it(crash: RunResult) -> None:
    calm = _feed(crash, "calm", "BTCUSDT")
    assert calm is None or calm.liquidations == calm.feed_events == 0, calm
    shocked = _feed(crash, "crash", "BTCUSDT")
    assert shocked is not None
    assert shocked.liquidations >= 2 * CRASH_S, shocked  # several a second, as in October 2025
    # At most one event per symbol per second, give or take the windows at the step's edges...
    assert 0 < shocked.feed_events <= CRASH_S + 2, shocked
    assert shocked.feed_lag_ms is not None
    # ...so the feed shows a fraction of the liquidations, and the run records which.
    assert shocked.completeness is not None and shocked.completeness < 0.5, shocked
    assert shocked.completeness == shocked.feed_events / shocked.liquidations
    assert _feed(crash, "crash", "ETHUSDT") is None  # no shock there, nothing liquidated
    # The crowd's accounts and the liquidations' transfers are in the journal: still conserved.
    assert crash.audit is not None and crash.audit.passed, crash.audit


def _at(samples: list[MarketSample], second: float) -> MarketSample:
    """The last sample taken by run second `second`."""
    return [sample for sample in samples if sample.at <= second + 0.5][-1]


def test_the_timeline_shows_the_mark_falling_and_more_liquidations_than_the_feed(
    crash: RunResult,
) -> None:
    btc = [sample for sample in crash.timeline if sample.symbol == "BTCUSDT"]
    eth = [sample for sample in crash.timeline if sample.symbol == "ETHUSDT"]
    duration = CALM_S + CRASH_S + AFTER_S
    # About one sample a second per symbol, from run second 0 to the end, in order.
    assert len(btc) == len(eth) and duration - 2 <= len(btc) <= duration + 1, btc
    assert btc[0].at < 1 and btc[-1].at >= duration - 1
    assert [sample.at for sample in btc] == sorted(sample.at for sample in btc)
    assert all(s.price and s.mark and s.index for s in btc + eth), btc + eth
    before, after = _at(btc, CALM_S - 1), btc[-1]
    assert before.mark is not None and after.mark is not None
    # Spot mode: the -8% shock moves the mark with it (give or take the book's own wander).
    assert after.mark < before.mark * 95 / 100, (before, after)
    assert before.liquidations == 0 and before.feed_liquidations == 0, before
    assert after.liquidations is not None and after.liquidations >= 2 * CRASH_S, after
    assert 0 < after.feed_liquidations < after.liquidations, after
    assert eth[-1].liquidations == eth[-1].feed_liquidations == 0, eth[-1]
    # Every liquidation the crash step counted is on the timeline by its end.
    shocked = _feed(crash, "crash", "BTCUSDT")
    assert shocked is not None and after.liquidations >= shocked.liquidations
