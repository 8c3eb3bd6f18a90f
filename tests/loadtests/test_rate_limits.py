"""Rate limits as a venue enforces them per client address: what one address meets, how many
addresses behind a load balancer spread it, and clients that retry what was refused."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
import yaml

from exchange_mock.redis_server import EmbeddedRedis
from loadtests.metrics import Outcome
from loadtests.results import RunResult, StepSummary
from tests.loadtests.runs import Target, mock_exchange, profile_file, run_locust

WEIGHT_PER_WINDOW = 300
"""Request weight per client address per window: a second here (a minute at time scale 60)."""
LIMITED = (Outcome.RATE_LIMITED_429, Outcome.BANNED_418)


@pytest.fixture(scope="module")
def target(
    redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    directory = tmp_path_factory.mktemp("target")
    table = yaml.safe_load(
        resources.files("exchange_mock.data").joinpath("ratelimits.yaml").read_text()
    )
    for limit in table["rate_limits"]:
        if limit["rate_limit_type"] == "REQUEST_WEIGHT":
            limit["limit"] = WEIGHT_PER_WINDOW
    limits = directory / "ratelimits.yaml"
    limits.write_text(yaml.safe_dump(table))
    with mock_exchange(redis_server, directory, time_scale=60, rate_limits_file=limits) as exchange:
        yield exchange


@pytest.fixture(scope="module")
def watchers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Position queries (weight 5) at 80/s: 400 weight a second, over one address's limit."""
    return profile_file(
        tmp_path_factory.mktemp("profiles"),
        "watchers",
        {"orders": 0, "queries": 80, "market_data": 0},
        ["{name: polling, duration_s: 3, multipliers: {orders: 1, queries: 1, market_data: 1}}"],
    )


def _queries(run: RunResult) -> StepSummary:
    return next(row for row in run.steps if row.series == "queries" and row.symbol is None)


def _run(target: Target, profile: Path, directory: Path, *extra: str) -> StepSummary:
    return _queries(run_locust(target, profile, directory, "--probe-accounts", "0", *extra))


def test_many_client_addresses_each_stay_within_their_own_limit(
    target: Target, watchers: Path, tmp_path: Path
) -> None:
    queries = _run(target, watchers, tmp_path / "run", "--client-ips", "16")
    assert queries.share(*LIMITED) == 0, queries.outcomes
    assert queries.used_weight_max is not None and queries.used_weight_max < WEIGHT_PER_WINDOW


def test_one_address_meets_the_limit(target: Target, watchers: Path, tmp_path: Path) -> None:
    queries = _run(target, watchers, tmp_path / "run", "--client-ips", "1")
    assert queries.used_weight_max is not None and queries.used_weight_max >= WEIGHT_PER_WINDOW
    share = queries.share(*LIMITED)
    assert share is not None and share >= 0.1, queries.outcomes


def test_the_harness_samplers_measure_on_while_the_load_is_refused(
    target: Target, watchers: Path, tmp_path: Path
) -> None:
    """The load speaks for the load generator's own address, which meets its limit; the market
    sampler, on the same machine, reads every second all the same."""
    run = run_locust(
        target, watchers, tmp_path / "run", "--probe-accounts", "0", "--client-ips", "0"
    )
    share = _queries(run).share(*LIMITED)
    assert share is not None and share >= 0.1, _queries(run).outcomes
    assert len(run.timeline) >= 2 * 3
    assert all(sample.mark is not None for sample in run.timeline)


def test_clients_that_retry_send_every_refused_request_again(
    target: Target, watchers: Path, tmp_path: Path
) -> None:
    """Each request counts once in the results, with its final outcome; Locust's own figures
    count every attempt."""
    run = run_locust(
        target, watchers, tmp_path / "run", "--probe-accounts", "0", "--client-ips", "1",
        "--retry", "immediate",
    )  # fmt: skip
    attempts = sum(
        int(row["Request Count"])
        for row in csv.DictReader((run.directory / "locust_stats.csv").open())
        if row["Name"] in {"positionRisk", "account", "balance"}
    )
    assert attempts > _queries(run).requests + 10
