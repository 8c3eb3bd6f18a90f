"""The embedded redis-server: private, on loopback, and never outliving us."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from exchange_mock.errors import ConfigError
from exchange_mock.redis_server import (
    EmbeddedRedis,
    debug_from_loopback,
    find_redis_server,
    redis_url,
    server_version,
)
from tests.redis_servers import WHEEL, other_on_path, redis_servers


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); read its state.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def test_starts_on_loopback_with_append_only_file_and_cleans_up() -> None:
    server = EmbeddedRedis().start()
    client = redis.Redis.from_url(server.url)
    try:
        assert server.url.startswith("redis://127.0.0.1:")
        assert client.config_get("appendonly")["appendonly"] == "yes"
        assert client.config_get("bind")["bind"] == "127.0.0.1"
        data_dir = Path(client.config_get("dir")["dir"])
        assert data_dir.is_dir()
    finally:
        client.close()
        server.stop()
    assert not data_dir.exists()
    try:
        redis.Redis(port=server.port, socket_connect_timeout=0.5).ping()
    except redis.ConnectionError:
        pass
    else:
        raise AssertionError("the server still answers after stop()")


def test_configured_url_is_used_as_is() -> None:
    with redis_url("redis://example.invalid:1/0") as url:
        assert url == "redis://example.invalid:1/0"


def test_server_dies_with_a_crashed_owner() -> None:
    """SIGKILL skips every cleanup handler: the kernel's parent-death signal must still stop it."""
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\n"
            "from exchange_mock.redis_server import EmbeddedRedis\n"
            "s = EmbeddedRedis().start()\n"
            "print(s._process.pid, flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert owner.stdout is not None
    child_pid = int(owner.stdout.readline())
    assert _alive(child_pid)
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    deadline = time.monotonic() + 5
    while _alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child_pid)


def test_redis_7_is_told_to_take_debug_from_loopback_and_older_ones_are_not(
    tmp_path: Path,
) -> None:
    """A rehearsed restart is `DEBUG RESTART`, which Redis 7 refuses unless told at start; an
    older Redis knows no such option and would refuse to start with it."""

    def server(version: str) -> str:
        path = tmp_path / f"redis-server-{version}"
        path.write_text(f"#!/bin/sh\necho 'Redis server v={version} sha=00000000:0'\n")
        path.chmod(0o755)
        return str(path)

    assert debug_from_loopback(server("7.2.4")) == ["--enable-debug-command", "local"]
    assert debug_from_loopback(server("6.2.14")) == []


@pytest.mark.parametrize("server", redis_servers())
def test_each_redis_version_starts_persisting_and_takes_debug_from_loopback(server: str) -> None:
    """The command line the embedded Redis is started with is one this version accepts, and
    lets the exchange send DEBUG (Redis 7 refuses it unless told; 6.2 knows no such option)."""
    with EmbeddedRedis(server=server) as embedded:
        client = redis.Redis.from_url(embedded.url)
        try:
            version = client.info("server")["redis_version"]
            assert tuple(map(int, version.split("."))) == server_version(server)
            assert client.config_get("appendonly")["appendonly"] == "yes"
            assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
            assert client.execute_command("DEBUG", "SLEEP", 0) in (b"OK", True)
        finally:
            client.close()


@pytest.mark.parametrize("server", redis_servers())
def test_each_redis_version_keeps_what_it_acknowledged_across_a_crash(
    server: str, tmp_path: Path
) -> None:
    """SIGKILL, then a start on the same data directory: what `appendfsync always` acknowledged
    comes back from the append-only file (one file on 6.2, a directory of parts on 7)."""
    embedded = EmbeddedRedis(data_dir=tmp_path, appendfsync="always", server=server).start()
    try:
        with redis.Redis.from_url(embedded.url) as client:
            client.xadd("journal", {"m": b"order 1"})
            client.set("head", 1)
        embedded.kill()
        embedded.start()
        with redis.Redis.from_url(embedded.url) as client:
            assert client.xlen("journal") == 1 and client.get("head") == b"1"
    finally:
        embedded.stop()
    assert list(tmp_path.glob("appendonly*")), "the append-only file is in the data directory"


@contextlib.contextmanager
def reused(data_dir: Path, server: str) -> Iterator[redis.Redis]:
    """A client of `server` started on `data_dir`, which is kept for the next."""
    with EmbeddedRedis(data_dir=data_dir, server=server) as embedded:
        client = redis.Redis.from_url(embedded.url)
        try:
            yield client
        finally:
            client.close()


def test_a_data_directory_a_redis_7_wrote_is_refused_by_an_older_redis(tmp_path: Path) -> None:
    """Redis 6.2 does not read Redis 7's append-only directory and would start empty, silently
    losing the exchange's state (a `--data-dir` reused after PATH's Redis 7 went away); Redis 7
    takes over 6.2's file."""
    newer = other_on_path()
    if newer is None or server_version(newer) < (7,):
        pytest.skip("needs a Redis 7 or later on PATH (Debian: apt-get install redis-server)")
    with reused(tmp_path / "older", WHEEL) as client:
        client.set("head", 1)
    with reused(tmp_path / "older", newer) as client:
        assert client.get("head") == b"1"
    with reused(tmp_path / "newer", newer) as client:
        client.set("head", 1)
    with pytest.raises(ConfigError, match="written by Redis 7 or later"):
        EmbeddedRedis(data_dir=tmp_path / "newer", server=WHEEL).start()


def test_a_configured_server_is_run_and_a_missing_one_is_a_config_error() -> None:
    assert find_redis_server(WHEEL) == WHEEL
    assert EmbeddedRedis(server=WHEEL).server == WHEEL
    with pytest.raises(ConfigError, match="not an executable file"):
        EmbeddedRedis(server="redis-server-that-is-not-installed")
