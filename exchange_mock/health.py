"""`python -m exchange_mock.health`: exit 0 when the exchange process that the `STAMPEDE_*`
environment describes answers on this machine, 1 (with the reason) when it does not.

A container's health check runs it with the same environment its process started with, so the
check follows the settings instead of repeating ports: a process with the API role must answer
`/stampede/health` with 200 (503 names what is wrong: a dead role, Redis unreachable, an engine
or projector that stopped making progress); one without it must serve its metrics on
`metrics_port` (which it starts only once its roles are running, and stops when one of them
ends for good, ending the process).
"""

from __future__ import annotations

import sys

import httpx

from exchange_mock.api.health import PATH as HEALTH_PATH
from exchange_mock.errors import ConfigError
from exchange_mock.settings import Role, Settings

TIMEOUT_S = 3.0
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "[::1]"}
"""Addresses a server binds to listen everywhere, and where a local client reaches it."""


def probe_url(settings: Settings) -> str:
    """What answers when the process is up."""
    host = _WILDCARDS.get(settings.host, settings.host)
    if Role.API in settings.roles:
        return f"http://{host}:{settings.port}{HEALTH_PATH}"
    if settings.metrics_port:
        return f"http://{host}:{settings.metrics_port}/metrics"
    raise ConfigError("a process without the API role can be probed only on its metrics port")


def unhealthy(settings: Settings) -> str | None:
    """Why the process is not healthy; None when it is."""
    url = probe_url(settings)
    try:
        response = httpx.get(url, timeout=TIMEOUT_S)
    except httpx.HTTPError as error:
        return f"{url}: {error!r}"
    if response.status_code == 200:
        return None
    return f"{url}: HTTP {response.status_code} {response.text[:500]}"


if __name__ == "__main__":
    reason = unhealthy(Settings())
    if reason is not None:
        sys.exit(reason)
