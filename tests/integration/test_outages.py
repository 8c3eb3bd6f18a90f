"""Redis goes away under a running exchange and comes back: every role resumes on its own, the
API answers in Binance's shape meanwhile (never a 500, never a hang), no acknowledged order is
lost or applied twice, and money is still conserved."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest
import redis
from redis.asyncio import Redis

from exchange_mock.accounts import AccountBook
from exchange_mock.redis_server import EmbeddedRedis, free_port
from exchange_mock.server import exchange_process
from exchange_mock.settings import Settings
from exchange_mock.store.keys import Keys
from tests.integration.burst import burst, check_books, journaled_order_ids
from tests.integration.conftest import exchange_settings, wait_for_books
from tests.integration.signed import SignedClient
from tests.redis_servers import redis_servers

RECOVERY_BOUND_S = 15.0
"""How soon after Redis is back orders must be acknowledged again."""
DEAD_ROLES_SEEN_S = 5.0
"""How soon health must say a roles process died: its heartbeat lapses after 3 s."""
ACK_TIMEOUT_MS = 2_000
REDIS_TIMEOUT_MS = 1_000


@pytest.fixture
def own_redis(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[EmbeddedRedis]:
    """A Redis of the test's own, to kill: syncing every write, so a restart loses nothing. The
    `redis-server` a test names (parametrized over `redis_servers()`), else the suite's."""
    server: str | None = getattr(request, "param", None)
    with EmbeddedRedis(data_dir=tmp_path / "redis", appendfsync="always", server=server) as own:
        yield own


@pytest.fixture
def exchange_log(tmp_path: Path) -> Iterator[IO[bytes]]:
    with (tmp_path / "exchange.log").open("w+b") as log:
        yield log


@pytest.fixture
def exchange(own_redis: EmbeddedRedis, exchange_log: IO[bytes]) -> Iterator[Settings]:
    settings = exchange_settings(
        own_redis,
        "outage",
        port=free_port(),
        ack_timeout_ms=ACK_TIMEOUT_MS,
        redis_timeout_ms=REDIS_TIMEOUT_MS,
    )
    with exchange_process(settings, exchange_log):
        wait_for_books(f"http://127.0.0.1:{settings.port}")
        yield settings


async def orders_flow_again(url: str, settings: Settings) -> float:
    """Seconds until an order is acknowledged again; fails past RECOVERY_BOUND_S."""
    trader = AccountBook.from_settings(settings).traders[-1]
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        client = SignedClient(http, trader)
        while True:
            response = await client.send(
                "POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                quantity="0.001",
            )  # fmt: skip
            if response.status_code == 200:
                return time.monotonic() - started
            assert response.status_code != 500, response.text
            assert time.monotonic() - started < RECOVERY_BOUND_S, response.text
            await asyncio.sleep(0.1)


async def health(url: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=5) as http:
        return await http.get("/stampede/health")


async def health_once_recovered(url: str, within_s: float) -> httpx.Response:
    """Health once every role runs again, or as it is after `within_s`: a role retrying its
    connection with backoff can come back a moment after orders flow again."""
    deadline = time.monotonic() + within_s
    while True:
        answer = await health(url)
        recovered = answer.status_code == 200 and set(answer.json()["roles"].values()) == {
            "running"
        }
        if recovered or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(0.1)


def logged(log: IO[bytes]) -> str:
    log.flush()
    log.seek(0)
    return log.read().decode(errors="replace")


async def test_roles_reconnect_after_redis_drops_every_client(
    exchange: Settings, own_redis: EmbeddedRedis, exchange_log: IO[bytes]
) -> None:
    """What a Redis failover does to its clients: `CLIENT KILL TYPE normal`."""
    url = f"http://127.0.0.1:{exchange.port}"
    traders = AccountBook.from_settings(exchange).traders[:-1]
    running = asyncio.create_task(burst(url, traders, orders=800, concurrency=8, seed=3))
    await asyncio.sleep(0.5)
    admin = Redis.from_url(own_redis.url)
    try:
        assert await admin.client_kill_filter(_type="normal", skipme=True) > 0
    finally:
        await admin.aclose()
    recovered_s = await orders_flow_again(url, exchange)
    result = await running
    assert recovered_s < RECOVERY_BOUND_S
    assert 500 not in result.statuses, result.statuses
    assert result.statuses.get(200, 0) > 400, result.statuses
    await check_books(exchange, result, RECOVERY_BOUND_S)
    log = logged(exchange_log)
    assert "Traceback" not in log, log
    assert "engine: Redis reachable again" in log, log


async def test_api_answers_503_while_redis_is_down_and_resumes_after_restart(
    exchange: Settings, own_redis: EmbeddedRedis, exchange_log: IO[bytes]
) -> None:
    """Redis killed (SIGKILL) mid-burst, then restarted on its port from its append-only file:
    with `appendfsync always`, no acknowledged order is lost (`check_books`)."""
    url = f"http://127.0.0.1:{exchange.port}"
    accounts = AccountBook.from_settings(exchange)
    running = asyncio.create_task(burst(url, accounts.traders[:-1], orders=600, concurrency=8))
    await asyncio.sleep(0.5)
    own_redis.kill()
    answers: Counter[tuple[int, int]] = Counter()
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        client = SignedClient(http, accounts.traders[-1])
        for _ in range(5):
            for method, path, params in (
                ("POST", "/fapi/v1/order", {"symbol": "ETHUSDT", "side": "BUY",
                                            "type": "MARKET", "quantity": "0.01"}),
                ("GET", "/fapi/v3/positionRisk", {}),
                ("GET", "/fapi/v1/depth", {"symbol": "BTCUSDT"}),
            ):  # fmt: skip
                started = time.monotonic()
                response = await client.send(method, path, **params)
                assert time.monotonic() - started < ACK_TIMEOUT_MS / 1000 + 0.5, path
                answers[(response.status_code, response.json()["code"])] += 1
    assert set(answers) <= {(503, -1001), (408, -1007)}, answers
    assert answers[(503, -1001)] >= 10, answers
    down = await health(url)
    assert down.status_code == 503 and "Redis is unreachable" in down.text, down.text
    own_redis.start()
    recovered_s = await orders_flow_again(url, exchange)
    result = await running
    assert recovered_s < RECOVERY_BOUND_S
    assert 500 not in result.statuses, result.statuses
    await check_books(exchange, result, RECOVERY_BOUND_S)
    assert "Traceback" not in logged(exchange_log)
    back = await health_once_recovered(url, RECOVERY_BOUND_S)
    assert back.status_code == 200, back.text
    assert set(back.json()["roles"].values()) == {"running"}, back.text


def test_health_is_503_while_the_engine_makes_no_progress(
    own_redis: EmbeddedRedis, exchange_log: IO[bytes]
) -> None:
    settings = exchange_settings(
        own_redis, "stuck", port=free_port(), ack_timeout_ms=500, stuck_after_ms=1_000
    )
    url = f"http://127.0.0.1:{settings.port}"
    with exchange_process(settings, exchange_log):
        wait_for_books(url)
        assert httpx.get(f"{url}/stampede/health").status_code == 200
        admin = httpx.put(
            f"{url}/stampede/admin/faults", json={"kind": "engine_paused", "value": 1}
        )
        assert admin.status_code == 200, admin.text
        deadline = time.monotonic() + RECOVERY_BOUND_S
        while (stuck := httpx.get(f"{url}/stampede/health")).status_code == 200:
            assert time.monotonic() < deadline, stuck.text
            time.sleep(0.3)
        assert "the engine has taken no command" in stuck.json()["status"], stuck.text


def test_a_role_that_cannot_recover_ends_its_process_non_zero(
    own_redis: EmbeddedRedis, exchange_log: IO[bytes]
) -> None:
    """A journal entry no version of the engine wrote: the projector cannot go on."""
    settings = exchange_settings(own_redis, "crash", port=free_port())
    with exchange_process(settings, exchange_log) as process:
        wait_for_books(f"http://127.0.0.1:{settings.port}")
        keys = Keys(settings.key_prefix)
        client = redis.Redis.from_url(own_redis.url)
        try:
            head = int(client.get(keys.journal_head) or 0)
            client.xadd(keys.journal, {"m": b"not an event"}, id=f"{head + 1_000_000}-0")
        finally:
            client.close()
        assert process.wait(timeout=30) != 0
    assert "projector stopped" in logged(exchange_log)


async def test_a_full_redis_refuses_orders_in_binance_terms_and_nothing_crashes(
    exchange: Settings, own_redis: EmbeddedRedis, exchange_log: IO[bytes]
) -> None:
    """Redis at its memory limit (no eviction) refuses writes: orders answer 503 -1008, and so
    does any request the rate limits must count; once there is room again orders flow."""
    url = f"http://127.0.0.1:{exchange.port}"
    trader = AccountBook.from_settings(exchange).traders[0]
    admin = Redis.from_url(own_redis.url)
    try:
        await admin.config_set("maxmemory", 1)
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            client = SignedClient(http, trader)
            refused = await client.send(
                "POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                quantity="0.001",
            )  # fmt: skip
            read = await http.get("/fapi/v1/depth", params={"symbol": "BTCUSDT"})
    finally:
        await admin.config_set("maxmemory", 0)
        await admin.aclose()
    assert (refused.status_code, refused.json()["code"]) == (503, -1008), refused.text
    assert (read.status_code, read.json()["code"]) == (503, -1008), read.text
    assert await orders_flow_again(url, exchange) < RECOVERY_BOUND_S
    assert (await health(url)).status_code == 200
    assert "Traceback" not in logged(exchange_log)


def roles_processes(pid: int) -> list[int]:
    """The `stampede-roles` processes below `pid`."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        children = Path(f"/proc/{current}/task/{current}/children")
        if not children.exists():
            continue
        for child in map(int, children.read_text().split()):
            queue.append(child)
            comm = Path(f"/proc/{child}/comm")
            if comm.exists() and comm.read_text().strip() == "stampede-roles":
                found.append(child)
    return found


async def test_a_rehearsed_role_crash_under_workers_kills_the_roles_process_and_it_recovers(
    own_redis: EmbeddedRedis, exchange_log: IO[bytes]
) -> None:
    """`--workers 2`, `POST /stampede/admin/outage {"kind": "role_crash", "role": "engine"}`
    mid-burst: the engine's process is SIGKILLed, started again by the exchange, and recovers
    from the journal: orders flow again, nothing lost or doubled, audit passes, health is 200."""
    settings = exchange_settings(
        own_redis, "workers", port=free_port(), api_workers=2, ack_timeout_ms=ACK_TIMEOUT_MS
    )
    url = f"http://127.0.0.1:{settings.port}"
    with exchange_process(settings, exchange_log) as process:
        await asyncio.to_thread(wait_for_books, url)
        [roles] = roles_processes(process.pid)
        traders = AccountBook.from_settings(settings).traders[:-1]
        running = asyncio.create_task(burst(url, traders, orders=250, concurrency=8, seed=6))
        await asyncio.sleep(0.5)
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            crash = await http.post(
                "/stampede/admin/outage", json={"kind": "role_crash", "role": "engine"}
            )
            nameless = await http.post("/stampede/admin/outage", json={"kind": "role_crash"})
        assert crash.status_code == 200, crash.text
        assert (nameless.status_code, nameless.json()["code"]) == (400, -1130), nameless.text
        recovered_s = await orders_flow_again(url, settings)
        result = await running
        assert [roles] != roles_processes(process.pid)
        await check_books(settings, result, RECOVERY_BOUND_S)
        assert (await health(url)).status_code == 200
    assert recovered_s < RECOVERY_BOUND_S
    assert result.statuses.get(200, 0) > 100, result.statuses
    assert 500 not in result.statuses, result.statuses
    log = logged(exchange_log)
    assert "ordered to crash (engine): SIGKILL" in log, log
    assert "stampede-roles exited (-9)" in log, log


async def test_health_names_a_dead_roles_process_within_seconds_and_recovers_with_it(
    own_redis: EmbeddedRedis, exchange_log: IO[bytes]
) -> None:
    """`--workers 2`: the roles process SIGKILLed while its supervisor is paused (SIGSTOP), so
    nothing starts it again. The API workers cannot see its tasks, and its stopped cursors would
    say so only after `stuck_after_ms` (30 s), and only with work queued; its heartbeat lapsing
    turns health 503, naming the roles, within seconds. Once the supervisor runs again and
    restarts it, health is 200."""
    settings = exchange_settings(own_redis, "heartbeat", port=free_port(), api_workers=2)
    url = f"http://127.0.0.1:{settings.port}"
    with exchange_process(settings, exchange_log) as process:
        await asyncio.to_thread(wait_for_books, url)
        before = await health(url)
        assert before.status_code == 200, before.text
        [roles] = roles_processes(process.pid)
        os.kill(process.pid, signal.SIGSTOP)
        try:
            os.kill(roles, signal.SIGKILL)
            killed_at = time.monotonic()
            while (dead := await health(url)).status_code == 200:
                assert time.monotonic() - killed_at < DEAD_ROLES_SEEN_S, dead.text
                await asyncio.sleep(0.2)
            seen_s = time.monotonic() - killed_at
        finally:
            os.kill(process.pid, signal.SIGCONT)
        assert dead.status_code == 503, dead.text
        report = dead.json()
        assert "engine is dead" in report["status"], dead.text
        assert report["roles"]["engine"] == report["roles"]["projector"] == "dead", dead.text
        deadline = time.monotonic() + RECOVERY_BOUND_S
        while (back := await health(url)).status_code != 200:
            assert time.monotonic() < deadline, back.text
            await asyncio.sleep(0.2)
        assert [roles] != roles_processes(process.pid)
    assert seen_s < DEAD_ROLES_SEEN_S
    assert set(back.json()["roles"].values()) == {"running"}, back.text


@pytest.mark.parametrize("own_redis", redis_servers(), indirect=True)
async def test_a_rehearsed_redis_restart_keeps_every_acknowledged_order(
    own_redis: EmbeddedRedis, exchange_log: IO[bytes]
) -> None:
    """`POST /stampede/admin/outage {"kind": "redis_restart", "seconds": 1}` after a burst and
    during another, on a Redis started for the exchange: Redis goes down for a second and comes
    back from its append-only file on its port; requests meanwhile answer 503 -1001, every loop
    resumes, every acknowledged order is still journaled and the books balance. On each Redis
    version: `DEBUG RESTART` needs Redis 7 told to take DEBUG, and Redis 7 restarts from an
    append-only directory of parts, 6.2 from one file."""
    settings = exchange_settings(
        own_redis, "restart", port=free_port(), redis_embedded=True,
        ack_timeout_ms=ACK_TIMEOUT_MS, redis_timeout_ms=REDIS_TIMEOUT_MS,
    )  # fmt: skip
    url = f"http://127.0.0.1:{settings.port}"
    accounts = AccountBook.from_settings(settings)
    with exchange_process(settings, exchange_log):
        await asyncio.to_thread(wait_for_books, url)
        traders = accounts.traders[:-1]
        before = await burst(url, traders, orders=150, concurrency=8)
        sending = asyncio.Event()
        second = burst(url, traders, orders=300, concurrency=8, seed=2, sending=sending)
        running = asyncio.create_task(second)
        async with asyncio.timeout(10):  # a busy machine is slow to start the burst
            await sending.wait()
        await asyncio.sleep(0.3)
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            restart = await http.post(
                "/stampede/admin/outage", json={"kind": "redis_restart", "seconds": 1}
            )
            during = await SignedClient(http, accounts.traders[-1]).send(
                "GET", "/fapi/v3/positionRisk"
            )
        assert restart.status_code == 200, restart.text
        assert (during.status_code, during.json()["code"]) == (503, -1001), during.text
        recovered_s = await orders_flow_again(url, settings)
        result = await running
        await check_books(settings, before, RECOVERY_BOUND_S)
        await check_books(settings, result, RECOVERY_BOUND_S)
        back = await health_once_recovered(url, RECOVERY_BOUND_S)
    assert recovered_s < RECOVERY_BOUND_S
    assert before.statuses.get(200, 0) > 100, before.statuses
    assert 500 not in result.statuses, result.statuses
    assert back.status_code == 200 and set(back.json()["roles"].values()) == {"running"}, back.text
    log = logged(exchange_log)
    assert "engine: Redis reachable again" in log and "Traceback" not in log, log


async def test_a_rehearsed_redis_outage_refuses_then_recovers(
    exchange: Settings, exchange_log: IO[bytes]
) -> None:
    """`POST /stampede/admin/outage`: Redis drops and refuses every client for 2 s; the API
    answers 503 -1001 meanwhile, and orders flow again after it. A crash or a restart this
    exchange could not come back from is refused in Binance's terms."""
    url = f"http://127.0.0.1:{exchange.port}"
    trader = AccountBook.from_settings(exchange).traders[0]
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        started = await http.post(
            "/stampede/admin/outage", json={"kind": "redis_outage", "seconds": 2}
        )
        assert started.status_code == 200, started.text
        during = await SignedClient(http, trader).send("GET", "/fapi/v3/positionRisk")
        unknown = await http.post("/stampede/admin/outage", json={"kind": "meteor", "seconds": 1})
        assert await orders_flow_again(url, exchange) < RECOVERY_BOUND_S
        # One process, on a Redis of the test's own: neither is the exchange's to restart.
        crash = await http.post(
            "/stampede/admin/outage", json={"kind": "role_crash", "role": "engine"}
        )
        restart = await http.post("/stampede/admin/outage", json={"kind": "redis_restart"})
    assert (during.status_code, during.json()["code"]) == (503, -1001), during.text
    assert unknown.status_code == 400, unknown.text
    assert (crash.status_code, crash.json()["code"]) == (400, -1020), crash.text
    assert "--workers 2" in crash.json()["msg"], crash.text
    assert (restart.status_code, restart.json()["code"]) == (400, -1020), restart.text
    assert "REDIS_URL" in restart.json()["msg"], restart.text
    assert (await health(url)).status_code == 200
    log = logged(exchange_log)
    assert "Redis outage over" in log and "Traceback" not in log, log


async def test_with_appendfsync_everysec_a_redis_crash_loses_at_most_the_last_seconds_orders(
    tmp_path: Path, exchange_log: IO[bytes]
) -> None:
    """What README promises for the default: SIGKILL mid-burst loses no acknowledged order
    older than Redis's fsync window (a second; two when the disk lags)."""
    with EmbeddedRedis(data_dir=tmp_path / "everysec", appendfsync="everysec") as server:
        settings = exchange_settings(
            server, "everysec", port=free_port(), ack_timeout_ms=ACK_TIMEOUT_MS,
            redis_timeout_ms=REDIS_TIMEOUT_MS,
        )  # fmt: skip
        url = f"http://127.0.0.1:{settings.port}"
        with exchange_process(settings, exchange_log):
            await asyncio.to_thread(wait_for_books, url)
            traders = AccountBook.from_settings(settings).traders
            running = asyncio.create_task(burst(url, traders, orders=600, concurrency=8))
            await asyncio.sleep(1.5)
            server.kill()
            killed_at = time.monotonic()
            await asyncio.sleep(0.5)
            server.start()
            result = await running
            redis = Redis.from_url(server.url)
            try:
                journaled = set(await journaled_order_ids(redis, Keys(settings.key_prefix)))
            finally:
                await redis.aclose()
    lost = result.acknowledged - journaled
    assert result.acknowledged, result.statuses
    assert all(killed_at - result.acknowledged_at[order] < 2.0 for order in lost), sorted(
        killed_at - result.acknowledged_at[order] for order in lost
    )
