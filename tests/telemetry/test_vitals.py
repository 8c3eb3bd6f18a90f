"""Each process's vitals land in one Redis hash an operator reads in one look: several processes
side by side, CPU as a share of one core, shed counts as the edge and the bus keep them, Redis
round trips measured on the real connection; a process that stops withdraws, and one that died
silently drops out once its entry is old."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass

import orjson
from redis.asyncio import BlockingConnectionPool, Redis

from exchange_mock.redis_server import EmbeddedRedis
from exchange_mock.store.keys import Keys
from exchange_mock.telemetry.redis_latency import MeasuredConnection
from exchange_mock.telemetry.vitals import RoundTrips, VitalsReporter, read_vitals
from tests.faults.fakes import SetFaults

INTERVAL_MS = 1_000


@dataclass
class Counts:
    in_flight: int = 0
    capacity: int = 1_000
    shed: int = 0


class Clocks:
    """A wall clock and a CPU clock the test moves by hand."""

    def __init__(self) -> None:
        self.wall = 1_000.0
        self.cpu = 5.0

    def advance(self, wall: float, cpu: float) -> None:
        self.wall += wall
        self.cpu += cpu


def reporter(
    redis: Redis, keys: Keys, process: str, roles: list[str], clocks: Clocks, orders: Counts
) -> VitalsReporter:
    return VitalsReporter(
        redis,
        keys,
        process,
        roles,
        RoundTrips(),
        orders,
        INTERVAL_MS,
        clock=lambda: clocks.wall,
        cpu_clock=lambda: clocks.cpu,
    )


def test_cpu_is_the_share_of_one_core_since_the_previous_sample(redis: Redis) -> None:
    clocks = Clocks()
    vitals = reporter(redis, Keys("t"), "p1", ["engine"], clocks, Counts())
    clocks.advance(wall=2.0, cpu=1.5)
    assert vitals.sample().cpu_pct == 75.0
    clocks.advance(wall=1.0, cpu=0.1)
    assert vitals.sample().cpu_pct == 10.0


def test_an_api_process_reports_its_edge_and_one_without_reports_none(redis: Redis) -> None:
    clocks, orders, edge = Clocks(), Counts(shed=3), Counts(in_flight=12, capacity=40, shed=7)
    vitals = reporter(redis, Keys("t"), "p1", ["projector", "engine"], clocks, orders)
    background = vitals.sample()
    assert (background.requests_in_flight, background.request_capacity) == (None, None)
    assert (background.requests_shed, background.orders_shed) == (0, 3)
    assert background.roles == ("engine", "projector")
    vitals.attach_edge(edge)
    api = vitals.sample()
    assert (api.requests_in_flight, api.request_capacity, api.requests_shed) == (12, 40, 7)


async def test_round_trips_are_timed_on_the_connection_and_taken_each_sample(
    redis_server: EmbeddedRedis, key_prefix: str
) -> None:
    trips = RoundTrips()
    pool = BlockingConnectionPool.from_url(
        redis_server.url,
        max_connections=2,
        connection_class=MeasuredConnection,
        faults=SetFaults(),
        round_trips=trips,
    )
    measured = Redis(connection_pool=pool)
    vitals = VitalsReporter(measured, Keys(key_prefix), "p1", ["api"], trips, Counts(), 1_000)
    try:
        await measured.ping()
        vitals.sample()  # what connecting took
        for n in range(5):
            await measured.set(f"{key_prefix}:k", n)
        pipe = measured.pipeline(transaction=False)
        pipe.get(f"{key_prefix}:k")
        pipe.get(f"{key_prefix}:k")
        await pipe.execute()
        first = vitals.sample()
        second = vitals.sample()
    finally:
        await measured.aclose()
        await pool.disconnect()
    assert first.redis_round_trips == 6, "five commands and one pipeline"
    assert first.redis_rtt_ms is not None and first.redis_rtt_max_ms is not None
    assert 0 < first.redis_rtt_ms <= first.redis_rtt_max_ms < 1_000
    assert (second.redis_round_trips, second.redis_rtt_ms) == (0, None)


async def test_every_running_process_is_read_back_and_a_stopped_one_withdraws(
    redis: Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    engine = VitalsReporter(redis, keys, "a-roles", ["engine"], RoundTrips(), Counts(), 50)
    api = VitalsReporter(redis, keys, "b-api", ["api"], RoundTrips(), Counts(shed=2), 50)
    stops = [asyncio.Event(), asyncio.Event()]
    tasks = [asyncio.create_task(engine.run(stops[0])), asyncio.create_task(api.run(stops[1]))]
    await asyncio.sleep(0.2)
    entries = await read_vitals(redis, keys, now_ms(), 50)
    assert [(v.process, v.roles, v.orders_shed) for v in entries] == [
        ("a-roles", ("engine",), 0),
        ("b-api", ("api",), 2),
    ]
    stops[1].set()
    await tasks[1]
    assert [v.process for v in await read_vitals(redis, keys, now_ms(), 50)] == ["a-roles"]
    stops[0].set()
    await tasks[0]
    assert await read_vitals(redis, keys, now_ms(), 50) == []


async def test_a_process_that_died_without_withdrawing_drops_out(
    redis: Redis, key_prefix: str
) -> None:
    keys, clocks = Keys(key_prefix), Clocks()
    last = reporter(redis, keys, "gone", ["api"], clocks, Counts()).sample()
    await redis.hset(keys.vitals, mapping={"gone": orjson.dumps(asdict(last))})
    assert [v.process for v in await read_vitals(redis, keys, last.at_ms, INTERVAL_MS)] == ["gone"]
    later = last.at_ms + 3 * INTERVAL_MS + 1
    assert await read_vitals(redis, keys, later, INTERVAL_MS) == []


def now_ms() -> int:
    return int(time.time() * 1000)
