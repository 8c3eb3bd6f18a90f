"""A cascade the harness watches end to end: the mock opens a crowd of leveraged positions at
genesis, the profile's shock liquidates them by the dozen per second, and the run records how
few of those liquidations the public feed showed (Binance's rule: per symbol, only the latest
liquidation in each 1000 ms window is pushed)."""

from __future__ import annotations

from pathlib import Path

from exchange_mock.market.crowd import Crowd
from exchange_mock.redis_server import EmbeddedRedis
from loadtests.feedwatch import FEED
from loadtests.results import RunResult, StepSummary
from tests.loadtests.runs import mock_exchange, profile_file, run_locust

ONCE = "multipliers: {orders: 1, queries: 1, market_data: 1}"
CRASH_S = 5


def _feed(run: RunResult, step: str, symbol: str) -> StepSummary | None:
    """The step's liquidation-feed row for `symbol`; None when the step saw no liquidation
    and no feed event there."""
    rows = (row for row in run.steps if (row.step, row.series, row.symbol) == (step, FEED, symbol))
    return next(rows, None)


def test_a_crash_liquidates_the_crowd_and_the_feed_shows_only_some_of_it(
    redis_server: EmbeddedRedis, tmp_path: Path
) -> None:
    light: dict[str, float] = {"orders": 4, "queries": 4, "market_data": 4}
    profile = profile_file(tmp_path, "crash", light, [
        f"{{name: calm, duration_s: 3, {ONCE}, events: [{{type: oracle_mode, mode: spot}}]}}",
        f"{{name: crash, duration_s: {CRASH_S}, {ONCE}, events: ["
        "{type: price_shock, symbol: BTCUSDT, pct: -8}, {type: depth_withdrawal, pct: 60}]}",
        f"{{name: after, duration_s: 2, {ONCE}}}",
    ])  # fmt: skip
    with mock_exchange(redis_server, tmp_path, crowd=Crowd(accounts=300)) as target:
        run = run_locust(target, profile, tmp_path / "run", "--client-ips", "8")
    calm = _feed(run, "calm", "BTCUSDT")
    assert calm is None or calm.liquidations == calm.feed_events == 0, calm
    crash = _feed(run, "crash", "BTCUSDT")
    assert crash is not None
    assert crash.liquidations >= 2 * CRASH_S, crash  # several a second, as in October 2025
    # At most one event per symbol per second, give or take the windows at the step's edges...
    assert 0 < crash.feed_events <= CRASH_S + 2, crash
    assert crash.feed_lag_ms is not None
    # ...so the feed shows a fraction of the liquidations, and the run records which.
    assert crash.completeness is not None and crash.completeness < 0.5, crash
    assert crash.completeness == crash.feed_events / crash.liquidations
    assert _feed(run, "crash", "ETHUSDT") is None  # no shock there, nothing liquidated
    # The crowd's accounts and the liquidations' transfers are in the journal: still conserved.
    assert run.audit is not None and run.audit.passed, run.audit
