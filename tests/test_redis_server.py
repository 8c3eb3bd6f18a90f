"""The embedded redis-server: private, on loopback, and never outliving us."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

from exchange_mock.redis_server import EmbeddedRedis, debug_from_loopback, redis_url


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
