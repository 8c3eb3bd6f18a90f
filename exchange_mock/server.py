"""Serving the exchange: in the foreground (the CLI), or on a background thread for a caller in
the same process (the demo, tests) that needs a real uvicorn server and a clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import IO, Any

import httpx
import uvicorn

from exchange_mock.api import request_size
from exchange_mock.api.admin_auth import guard_operator_api
from exchange_mock.app import create_app
from exchange_mock.errors import ConfigError
from exchange_mock.lifetime import ends_with_us, name_process
from exchange_mock.node import Node
from exchange_mock.redis_server import free_port, redis_url
from exchange_mock.settings import Role, Settings
from exchange_mock.supervisor import NAME, Supervised
from exchange_mock.telemetry.registry import metrics_endpoint, multiprocess_directory


def embedded_or_configured(settings: Settings) -> AbstractContextManager[str]:
    """The configured Redis URL, or the embedded server's, started as the settings describe."""
    return redis_url(
        settings.redis_url,
        settings.redis_data_dir,
        settings.redis_appendfsync,
        settings.redis_maxmemory_mb,
        settings.redis_server,
    )


def on_redis(settings: Settings, url: str) -> Settings:
    """The settings with the Redis `embedded_or_configured` gave: embedded when none was set
    (or when whoever set one started it for this exchange)."""
    embedded = settings.redis_embedded or settings.redis_url is None
    return settings.model_copy(update={"redis_url": url, "redis_embedded": embedded})


def settings_env(settings: Settings) -> dict[str, str]:
    """The settings as `STAMPEDE_*` variables, for worker processes that read them at start."""
    env = {}
    for name, value in settings.model_dump(mode="json").items():
        if value is not None:
            env[f"STAMPEDE_{name.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    return env


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """What every start mode gives uvicorn, so that each serves requests the same way: the
    request line and headers capped, and the client address ours to resolve (`trusted_proxies`),
    since uvicorn's own rewrite would believe any loopback peer's X-Forwarded-For."""
    return {
        "host": settings.host,
        "port": settings.port,
        "access_log": settings.access_log,
        "proxy_headers": False,
        "http": request_size.PROTOCOL,
    }


class Shutdown:
    """How a serving process ends: SIGTERM the way Ctrl-C does, unwinding every block (so the
    embedded Redis stops and its private directory is removed) with nothing logged as an error;
    and a role that ended for good (`fatal`) ends the process the same way, but non-zero, so a
    supervisor restarts it."""

    def __init__(self) -> None:
        self.failure: str | None = None

    def fatal(self, reason: str) -> None:
        self.failure = reason
        signal.raise_signal(signal.SIGTERM)

    @contextmanager
    def handled(self) -> Iterator[None]:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, signal.default_int_handler)
        with contextlib.suppress(KeyboardInterrupt):
            yield
        if self.failure is not None:
            sys.exit(self.failure)


async def _run_background_roles(settings: Settings, shutdown: Shutdown) -> None:
    ended = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stop_signal, ended.set)

    def fatal(reason: str) -> None:
        shutdown.failure = reason
        ended.set()

    async with Node(settings, fatal):
        with metrics_endpoint(settings.host, settings.metrics_port):
            await ended.wait()


def run_background_roles(settings: Settings) -> None:
    """Engine, projector, makers and feeds without the API (a process of its own), with their
    metrics on `metrics_port` when one is set; until SIGTERM or SIGINT, or a role ends for good
    (then non-zero)."""
    name_process(NAME)
    shutdown = Shutdown()
    with shutdown.handled():
        asyncio.run(_run_background_roles(settings, shutdown))


def serve(settings: Settings) -> None:
    """Serve until interrupted, with a private Redis when no URL is configured."""
    if Role.API in settings.roles:
        try:
            settings = guard_operator_api(settings)
        except ConfigError as refused:
            raise SystemExit(f"stampede: {refused}") from None
    shutdown = Shutdown()
    with shutdown.handled(), embedded_or_configured(settings) as url:
        settings = on_redis(settings, url)
        if Role.API not in settings.roles:
            asyncio.run(_run_background_roles(settings, shutdown))
            return
        if settings.api_workers == 1:
            uvicorn.run(create_app(settings, shutdown.fatal), **uvicorn_options(settings))
            return
        background = settings.model_copy(update={"roles": settings.roles - {Role.API}})
        # The workers' health hears of the roles process through its heartbeat.
        worker_settings = settings.model_copy(
            update={
                "roles": frozenset({Role.API}),
                "peer_roles": settings.peer_roles | background.roles,
            }
        )
        # One port, many processes: any worker's /metrics adds up every process's values.
        with multiprocess_directory() as metrics_env:
            # Children inherit it, and prometheus-client reads it when they import it.
            os.environ.update(metrics_env)
            roles = Supervised(run_background_roles, background)
            roles.start()
            os.environ.update(settings_env(worker_settings))
            try:
                uvicorn.run(
                    "exchange_mock.app:app_from_env",
                    factory=True,
                    workers=settings.api_workers,
                    **uvicorn_options(settings),
                )
            finally:
                roles.stop()


class ServerThread:
    """A real uvicorn server on a background thread, stopped cleanly on exit."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        config = uvicorn.Config(
            create_app(settings), log_level="warning", **uvicorn_options(settings)
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="exchange", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.port}"

    def start(self, timeout_s: float = 15.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the exchange did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)


def wait_until_serving(base_url: str, path: str = "/fapi/v1/ping", timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{base_url}{path}", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the exchange at {base_url} did not answer")
        time.sleep(0.05)


@contextmanager
def exchange_process(
    settings: Settings, log: IO[bytes] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """The exchange in a process of its own (`python -m exchange_mock`), as a user runs it; when
    it serves HTTP, ready once it answers. Its output goes to `log` when one is given. It ends
    with this process, however this one ends (`lifetime.py`)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "exchange_mock"],
        env={**os.environ, **settings_env(settings)},
        stdout=log,
        stderr=subprocess.STDOUT if log is not None else None,
        preexec_fn=ends_with_us(),  # noqa: PLW1509 (prctl alone, see `ends_with_us`)
    )
    try:
        if Role.API in settings.roles:
            wait_until_serving(f"http://{settings.host}:{settings.port}")
        yield process
    finally:
        process.terminate()
        process.wait(timeout=15)


@contextmanager
def running_exchange(settings: Settings) -> Iterator[ServerThread]:
    """Start Redis (if needed) and the exchange on a free port; stop both on exit."""
    with embedded_or_configured(settings) as url:
        port = settings.port or free_port()
        server = ServerThread(on_redis(settings, url).model_copy(update={"port": port}))
        server.start()
        try:
            yield server
        finally:
            server.stop()
