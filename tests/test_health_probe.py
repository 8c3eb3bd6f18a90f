"""`python -m exchange_mock.health`: what a container's health check asks, from the settings."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from exchange_mock.errors import ConfigError
from exchange_mock.health import probe_url, unhealthy
from exchange_mock.redis_server import free_port
from exchange_mock.settings import Role, Settings


def test_an_api_process_is_probed_on_its_health_and_others_on_their_metrics() -> None:
    api = Settings(host="0.0.0.0", port=8000, roles=frozenset({Role.API}))
    engine = Settings(host="0.0.0.0", metrics_port=9464, roles=frozenset({Role.ENGINE}))
    assert probe_url(api) == "http://127.0.0.1:8000/stampede/health"
    assert probe_url(engine) == "http://127.0.0.1:9464/metrics"
    assert probe_url(api.model_copy(update={"host": "::"})) == "http://[::1]:8000/stampede/health"


def test_a_role_without_a_metrics_port_cannot_be_probed() -> None:
    with pytest.raises(ConfigError):
        probe_url(Settings(roles=frozenset({Role.PROJECTOR})))


def test_nothing_listening_is_unhealthy_with_the_reason() -> None:
    settings = Settings(metrics_port=free_port(), roles=frozenset({Role.FEEDS}))
    reason = unhealthy(settings)
    assert reason is not None and f":{settings.metrics_port}/metrics" in reason
    module = subprocess.run(
        [sys.executable, "-m", "exchange_mock.health"],
        env={
            **os.environ,
            "STAMPEDE_ROLES": '["feeds"]',
            "STAMPEDE_METRICS_PORT": str(settings.metrics_port),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert module.returncode == 1 and "/metrics" in module.stderr
