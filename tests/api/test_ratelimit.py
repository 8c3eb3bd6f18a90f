"""Rate limits against a real Redis: weights, order counts, 429s, bans, windows and time scale.

Time is an injected clock moved by hand, so windows and bans are crossed without sleeping.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from redis.asyncio import BlockingConnectionPool, Connection, Redis

from exchange_mock.api.ratelimit import Interval, RateLimiter, RateLimitTable
from exchange_mock.errors import Code, ExchangeError
from exchange_mock.redis_server import EmbeddedRedis
from exchange_mock.store.keys import Keys

T0 = 20_371 * 86_400_000
"""Midnight UTC, 2025-10-10: the start of a window of every length used here."""
MINUTE = 60_000
SHIPPED = RateLimitTable.load()
IP = "203.0.113.7"


class Clock:
    def __init__(self, now: int = T0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limiter(redis: Redis, key_prefix: str, clock: Clock) -> RateLimiter:
    return RateLimiter(redis, Keys(key_prefix), SHIPPED, 1.0, clock)


def small_table() -> RateLimitTable:
    """A weight limit of 1 per second and a one-strike ban policy: quick to trip repeatedly."""
    return RateLimitTable.model_validate(
        {
            "rate_limits": [
                {
                    "rate_limit_type": "REQUEST_WEIGHT",
                    "interval": "SECOND",
                    "interval_num": 1,
                    "limit": 1,
                }
            ],
            "ban": {
                "strikes": 1,
                "first": {"interval": "MINUTE", "interval_num": 2},
                "factor": 2,
                "longest": {"interval": "DAY", "interval_num": 3},
                "forget_after": {"interval": "DAY", "interval_num": 1},
            },
            "default_weight": 1,
            "endpoints": {},
        }
    )


async def refused(limiter: RateLimiter, ip: str = IP, weight: int = 1) -> ExchangeError:
    with pytest.raises(ExchangeError) as caught:
        await limiter.admit(ip, weight, None, False)
    return caught.value


async def ban(limiter: RateLimiter, clock: Clock, ip: str = IP) -> int:
    """Get `ip` banned under `small_table()`; how long the ban lasts (ms)."""
    await refused(limiter, ip, weight=2)
    error = await refused(limiter, ip)
    assert error.http_status == 418
    return int(error.msg.split("banned until ")[1].split(".")[0]) - clock.now


# -- request weight ------------------------------------------------------------------------------


async def test_weight_accumulates_per_ip_in_the_used_weight_header(limiter: RateLimiter) -> None:
    assert await limiter.admit(IP, 5, None, False) == {"X-MBX-USED-WEIGHT-1M": "5"}
    assert await limiter.admit(IP, 20, None, False) == {"X-MBX-USED-WEIGHT-1M": "25"}
    assert await limiter.admit("198.51.100.1", 1, None, False) == {"X-MBX-USED-WEIGHT-1M": "1"}


@pytest.mark.parametrize(("into_minute", "retry_after"), [(0, "60"), (15_000, "45"), (59_999, "1")])
async def test_the_2401st_weight_is_refused_with_429_until_the_minute_ends(
    limiter: RateLimiter, clock: Clock, into_minute: int, retry_after: str
) -> None:
    clock.now = T0 + into_minute
    assert await limiter.admit(IP, 2400, None, False) == {"X-MBX-USED-WEIGHT-1M": "2400"}

    error = await refused(limiter)

    assert (error.http_status, error.code) == (429, Code.TOO_MANY_REQUESTS)
    assert error.msg == (
        f"Too many requests; current limit of IP({IP}) request weight per minute is 2400. "
        "Please use WebSocket Streams for live updates to avoid polling the API."
    )
    assert error.headers == {"X-MBX-USED-WEIGHT-1M": "2401", "Retry-After": retry_after}


async def test_refused_requests_still_count_toward_the_weight(limiter: RateLimiter) -> None:
    await limiter.admit(IP, 2399, None, False)
    await refused(limiter, weight=10)

    assert (await refused(limiter, weight=0)).headers["X-MBX-USED-WEIGHT-1M"] == "2409"


async def test_the_weight_window_resets_on_the_minute_boundary(
    limiter: RateLimiter, clock: Clock
) -> None:
    clock.now = T0 + MINUTE - 1_000
    await limiter.admit(IP, 2400, None, False)
    clock.now = T0 + MINUTE - 1
    await refused(limiter)

    clock.now = T0 + MINUTE
    assert await limiter.admit(IP, 1, None, False) == {"X-MBX-USED-WEIGHT-1M": "1"}


# -- orders --------------------------------------------------------------------------------------


async def test_orders_count_per_account_in_both_windows_and_weigh_nothing(
    limiter: RateLimiter,
) -> None:
    await limiter.admit(IP, 0, 7, True)

    assert await limiter.admit(IP, 0, 7, True) == {
        "X-MBX-USED-WEIGHT-1M": "0",
        "X-MBX-ORDER-COUNT-1M": "2",
        "X-MBX-ORDER-COUNT-10S": "2",
    }
    assert await limiter.admit(IP, 1, 7, False) == {"X-MBX-USED-WEIGHT-1M": "1"}
    assert await limiter.admit(IP, 0, None, True) == {"X-MBX-USED-WEIGHT-1M": "1"}


async def test_a_batch_counts_as_many_orders_as_binance_counts_it_in_each_window(
    limiter: RateLimiter,
) -> None:
    """batchOrders: 5 orders on the 10-second window, 1 on the minute's."""
    batch = RateLimitTable.load().cost("POST", "/fapi/v1/batchOrders")
    assert batch.weight == 5
    await limiter.admit(IP, batch.weight, 7, batch.order)

    assert await limiter.admit(IP, 0, 7, True) == {
        "X-MBX-USED-WEIGHT-1M": "5",
        "X-MBX-ORDER-COUNT-1M": "2",
        "X-MBX-ORDER-COUNT-10S": "6",
    }


async def test_the_301st_order_in_10_seconds_is_refused_for_that_account_only(
    limiter: RateLimiter, clock: Clock
) -> None:
    clock.now = T0 + 1_000
    for _ in range(300):
        await limiter.admit(IP, 0, 7, True)

    with pytest.raises(ExchangeError) as caught:
        await limiter.admit("198.51.100.1", 0, 7, True)

    error = caught.value
    assert (error.http_status, error.code) == (429, Code.TOO_MANY_ORDERS)
    assert error.msg == "Too many new orders; current limit is 300 orders per 10 SECOND."
    assert error.headers["Retry-After"] == "9"
    assert error.headers["X-MBX-ORDER-COUNT-10S"] == "301"
    assert (await limiter.admit(IP, 0, 8, True))["X-MBX-ORDER-COUNT-10S"] == "1"

    clock.now = T0 + 10_000
    headers = await limiter.admit(IP, 0, 7, True)
    assert (headers["X-MBX-ORDER-COUNT-10S"], headers["X-MBX-ORDER-COUNT-1M"]) == ("1", "302")


async def test_the_1201st_order_in_a_minute_is_refused_until_the_minute_ends(
    limiter: RateLimiter, clock: Clock
) -> None:
    for window in range(4):
        clock.now = T0 + window * 10_000
        for _ in range(300):
            await limiter.admit(IP, 0, 7, True)
    clock.now = T0 + 40_000

    with pytest.raises(ExchangeError) as caught:
        await limiter.admit(IP, 0, 7, True)

    assert caught.value.msg == "Too many new orders; current limit is 1200 orders per 1 MINUTE."
    assert caught.value.headers["Retry-After"] == "20"


# -- bans ----------------------------------------------------------------------------------------


async def test_an_ip_that_keeps_sending_after_429_is_banned_with_418(
    limiter: RateLimiter, clock: Clock
) -> None:
    clock.now = T0 + 10_000
    await limiter.admit(IP, 2400, None, False)
    for _ in range(SHIPPED.ban.strikes):
        assert (await refused(limiter)).http_status == 429

    error = await refused(limiter)

    until = T0 + 10_000 + 2 * MINUTE
    assert (error.http_status, error.code) == (418, Code.TOO_MANY_REQUESTS)
    assert error.msg == (
        f"Way too many requests; IP({IP}) banned until {until}. "
        "Please use WebSocket Streams for live updates to avoid bans."
    )
    assert error.headers == {"Retry-After": "120"}
    clock.now += 90_000
    assert (await refused(limiter)).headers == {"Retry-After": "30"}
    assert await limiter.admit("198.51.100.1", 1, None, False) == {"X-MBX-USED-WEIGHT-1M": "1"}


async def test_429s_in_separate_windows_are_not_strikes(limiter: RateLimiter, clock: Clock) -> None:
    for minute in range(SHIPPED.ban.strikes + 2):
        clock.now = T0 + minute * MINUTE
        await limiter.admit(IP, 2400, None, False)
        assert (await refused(limiter)).http_status == 429


async def test_a_ban_expires_by_itself(redis: Redis, key_prefix: str, clock: Clock) -> None:
    limiter = RateLimiter(redis, Keys(key_prefix), small_table(), 1.0, clock)
    length = await ban(limiter, clock)
    banned_at = clock.now

    clock.now = banned_at + length - 1
    assert (await refused(limiter)).http_status == 418
    clock.now = banned_at + length
    assert await limiter.admit(IP, 1, None, False) == {"X-MBX-USED-WEIGHT-1S": "1"}


async def test_each_new_ban_doubles_from_2_minutes_up_to_3_days(
    redis: Redis, key_prefix: str, clock: Clock
) -> None:
    limiter = RateLimiter(redis, Keys(key_prefix), small_table(), 1.0, clock)
    lengths = []
    for _ in range(14):
        lengths.append(await ban(limiter, clock))
        clock.now += lengths[-1]

    assert lengths == [2 * MINUTE * 2**n for n in range(12)] + [3 * 86_400_000] * 2


@pytest.mark.parametrize(
    ("quiet", "second_ban"), [(86_400_000 - 1, 4 * MINUTE), (86_400_000, 2 * MINUTE)]
)
async def test_a_day_without_a_ban_starts_the_ladder_again(
    redis: Redis, key_prefix: str, clock: Clock, quiet: int, second_ban: int
) -> None:
    limiter = RateLimiter(redis, Keys(key_prefix), small_table(), 1.0, clock)
    clock.now += await ban(limiter, clock) + quiet

    assert await ban(limiter, clock) == second_ban


async def test_every_key_expires_by_itself(
    redis: Redis, key_prefix: str, limiter: RateLimiter
) -> None:
    await limiter.admit(IP, 2400, 7, True)
    for _ in range(SHIPPED.ban.strikes + 1):
        await refused(limiter)

    keys = [key async for key in redis.scan_iter(match=f"{key_prefix}:*")]
    assert len(keys) == 4  # IP weight, two order windows, the IP's penalty
    ttls = [await redis.pttl(key) for key in keys]
    assert all(0 < ttl <= 4 * 86_400_000 for ttl in ttls), ttls


# -- sharing and time scale ----------------------------------------------------------------------


async def test_workers_with_their_own_redis_clients_share_one_limit(
    redis_server: EmbeddedRedis, key_prefix: str, clock: Clock
) -> None:
    # Blocking pools, as a worker under load would use: requests wait for a free connection.
    clients = [
        Redis(connection_pool=BlockingConnectionPool.from_url(redis_server.url, max_connections=20))
        for _ in range(2)
    ]
    workers = [RateLimiter(client, Keys(key_prefix), SHIPPED, 1.0, clock) for client in clients]
    try:
        outcomes = await asyncio.gather(
            *(workers[n % 2].admit(IP, 1, None, False) for n in range(2_450)),
            return_exceptions=True,
        )
    finally:
        for client in clients:
            await client.aclose()

    admitted = [o for o in outcomes if isinstance(o, dict)]
    assert len(admitted) == 2_400
    others = [o for o in outcomes if not isinstance(o, dict)]
    assert all(isinstance(o, ExchangeError) and o.code == Code.TOO_MANY_REQUESTS for o in others)
    assert {o["X-MBX-USED-WEIGHT-1M"] for o in admitted} == {str(n) for n in range(1, 2_401)}


async def test_time_scale_shrinks_windows_and_bans(
    redis: Redis, key_prefix: str, clock: Clock
) -> None:
    limiter = RateLimiter(redis, Keys(key_prefix), SHIPPED, 60.0, clock)
    clock.now = T0 + 250
    await limiter.admit(IP, 2400, None, False)
    assert (await refused(limiter)).headers["Retry-After"] == "1"

    clock.now = T0 + 1_000
    await limiter.admit(IP, 2400, None, False)
    for _ in range(SHIPPED.ban.strikes):
        await refused(limiter)
    error = await refused(limiter)
    assert error.http_status == 418
    assert f"banned until {T0 + 1_000 + 2_000}." in error.msg
    assert error.headers == {"Retry-After": "2"}


class CountingConnection(Connection):
    """A connection that counts what it sends: one send is one round trip to Redis."""

    sent = 0

    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        CountingConnection.sent += 1
        await super().send_packed_command(command, check_health)


async def test_admit_costs_one_redis_round_trip(
    redis_server: EmbeddedRedis, key_prefix: str, clock: Clock
) -> None:
    client = Redis.from_url(redis_server.url, connection_class=CountingConnection)
    limiter = RateLimiter(client, Keys(key_prefix), SHIPPED, 1.0, clock)
    try:
        await limiter.admit(IP, 1, 7, True)  # may load the script into the server first
        CountingConnection.sent = 0
        for _ in range(10):
            await limiter.admit(IP, 1, 7, True)
        await refused(limiter, weight=2400)
    finally:
        await client.aclose()

    assert CountingConnection.sent == 11


# -- the table -----------------------------------------------------------------------------------


def test_exchange_info_publishes_binances_limits() -> None:
    assert SHIPPED.exchange_info() == [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
        {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
    ]


async def admitted_in_one_window(
    limiter: RateLimiter, clock: Clock, published: dict[str, str | int], number: int
) -> tuple[int, ExchangeError]:
    """Requests (weight 1, or orders) admitted in one window of `published` before a refusal.

    They are spread evenly over the window so that only this limit can be the one that trips.
    """
    window = Interval(str(published["interval"])).ms * int(published["intervalNum"])
    limit = int(published["limit"])
    is_order = published["rateLimitType"] == "ORDERS"
    start = T0 + 86_400_000 * (number + 1)
    for admitted in range(limit + 1):
        clock.now = start + admitted * window // (limit + 1)
        try:
            await limiter.admit(f"192.0.2.{number}", 0 if is_order else 1, number, is_order)
        except ExchangeError as error:
            return admitted, error
    raise AssertionError(f"{published} is published but not enforced")


async def test_every_published_limit_is_the_limit_enforced(
    limiter: RateLimiter, clock: Clock
) -> None:
    for number, published in enumerate(SHIPPED.exchange_info()):
        admitted, refusal = await admitted_in_one_window(limiter, clock, published, number)

        assert admitted == published["limit"], published
        assert re.search(rf"\b{published['limit']}\b", refusal.msg), refusal.msg


@pytest.mark.parametrize(
    ("route", "params", "weight"),
    [
        ("GET /fapi/v1/ping", {}, 1),
        ("GET /fapi/v1/time", {}, 1),
        ("GET /fapi/v1/exchangeInfo", {}, 1),
        ("GET /fapi/v1/depth", {"symbol": "BTCUSDT", "limit": "5"}, 2),
        ("GET /fapi/v1/depth", {"symbol": "BTCUSDT", "limit": "50"}, 2),
        ("GET /fapi/v1/depth", {"symbol": "BTCUSDT", "limit": "100"}, 5),
        ("GET /fapi/v1/depth", {"symbol": "BTCUSDT"}, 10),
        ("GET /fapi/v1/depth", {"symbol": "BTCUSDT", "limit": "1000"}, 20),
        ("GET /fapi/v1/depth", {"symbol": "BTCUSDT", "limit": "bogus"}, 10),
        ("GET /fapi/v1/ticker/24hr", {"symbol": "BTCUSDT"}, 1),
        ("GET /fapi/v1/ticker/24hr", {}, 40),
        ("GET /fapi/v1/premiumIndex", {"symbol": "BTCUSDT"}, 1),
        ("GET /fapi/v1/premiumIndex", {}, 10),
        ("GET /fapi/v1/openOrders", {"symbol": "BTCUSDT"}, 1),
        ("GET /fapi/v1/openOrders", {}, 40),
        ("GET /fapi/v2/positionRisk", {}, 5),
        ("GET /fapi/v3/positionRisk", {}, 5),
        ("GET /fapi/v3/account", {}, 5),
        ("GET /fapi/v2/balance", {}, 5),
        ("POST /fapi/v1/order", {"symbol": "BTCUSDT"}, 0),
        ("DELETE /fapi/v1/order", {"symbol": "BTCUSDT"}, 1),
        ("POST /fapi/v1/listenKey", {}, 1),
        ("GET /fapi/v1/notListed", {}, 1),
    ],
)
def test_endpoint_weights_follow_binance(route: str, params: dict[str, str], weight: int) -> None:
    method, path = route.split(" ")
    assert SHIPPED.cost(method, path).weight_for(params) == weight


def test_only_new_orders_count_toward_the_orders_limits() -> None:
    ordered = {route for route, cost in SHIPPED.endpoints.items() if cost.order}
    assert ordered == {"POST /fapi/v1/order", "POST /fapi/v1/batchOrders"}


def test_a_table_file_replaces_the_shipped_table(tmp_path: Path) -> None:
    shipped = resources.files("exchange_mock.data").joinpath("ratelimits.yaml").read_text()
    data = yaml.safe_load(shipped)
    data["rate_limits"][0]["limit"] = 6000
    path = tmp_path / "limits.yaml"
    path.write_text(yaml.safe_dump(data))

    assert RateLimitTable.load(path).exchange_info()[0]["limit"] == 6000


@pytest.mark.parametrize(
    "change",
    [
        {"surplus": 1},
        {"ban": {**SHIPPED.ban.model_dump(mode="json"), "mercy": True}},
        {"rate_limits": [SHIPPED.rate_limits[0].model_dump(mode="json")] * 2},
        {"endpoints": {"/fapi/v1/ping": {"weight": 1}}},
    ],
    ids=["unknown field", "unknown ban field", "two limits in one window", "route lacks method"],
)
def test_a_table_that_cannot_be_meant_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        RateLimitTable.model_validate(SHIPPED.model_dump(mode="json") | change)
