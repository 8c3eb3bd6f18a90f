"""Shared fixtures: one real embedded redis-server for the whole test session, and an async
client of it per test."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis
from xdist.remote import Producer
from xdist.scheduler import LoadScopeScheduling

from exchange_mock.redis_server import EmbeddedRedis


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C as a terminal delivers it: a suite started in the background (a CI script's
    `cmd &`) inherits SIGINT ignored, and so would every command a test starts and then stops
    with SIGINT, which Python then never turns into a KeyboardInterrupt."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    with EmbeddedRedis() as server:
        yield server


@pytest.fixture
async def redis(redis_server: EmbeddedRedis) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


@pytest.fixture
def key_prefix(request: pytest.FixtureRequest) -> str:
    """A key namespace per test, so tests share one server without sharing state."""
    return f"t{abs(hash(request.node.nodeid)) % 10**10}"


LOAD = frozenset(
    {
        "tests/deploy/test_stack_on_loopback.py",
        "tests/integration/test_exchange_rate_limits.py",
        "tests/integration/test_fault_injection.py",
        "tests/integration/test_load_shedding.py",
        "tests/integration/test_outages.py",
        "tests/loadtests/test_liquidations.py",
        "tests/loadtests/test_locust_run.py",
        "tests/loadtests/test_rate_limits.py",
        "tests/loadtests/test_repeats.py",
        "tests/loadtests/test_stalls.py",
        "tests/loadtests/test_starved_generator.py",
        "tests/loadtests/test_web_ui.py",
    }
)
"""Modules whose assertions ride on time under load (a run's latency, a deadline, a recovery):
run in parallel (pytest -n), they take turns on one worker, so no two of them share the CPU.
Modules that load the exchange only to count what it kept (a burst across a restart, two API
workers, ccxt's suite) run beside them."""


def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> LoadScopeScheduling:
    """Under `pytest -n`, a module's tests stay together on one worker, so a module's fixtures
    (a running mock, a finished run) are built once; the modules in `LOAD` are one unit, run
    one after the other."""
    return _ModuleScheduling(config, log)


class _ModuleScheduling(LoadScopeScheduling):
    def _split_scope(self, nodeid: str) -> str:
        module = nodeid.split("::", 1)[0]
        return "load" if module in LOAD else module
