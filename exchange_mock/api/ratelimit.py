"""Binance's rate limits: the table as data, and one enforcement shared by every API worker.

The table (limits, ban policy, endpoint weights) is loaded once from YAML; exchangeInfo publishes
`rateLimits` from the same object the limiter enforces, so the two cannot drift apart.

Enforcement costs one Redis round trip per request: a Lua script (`store/scripts/ratelimit.lua`)
checks the ban, counts the request in fixed windows aligned to the clock (request weight per IP,
new orders per account), and answers a client that keeps sending while told to wait with a ban
that grows with each repeat. State lives in Redis, not in the process, because any worker may
serve any request; every key expires by itself (see `store/keys.py`: `rl:*`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from functools import cached_property
from typing import cast

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from redis.asyncio import Redis

from exchange_mock.clock import Clock, wall_clock
from exchange_mock.errors import Code, ExchangeError
from exchange_mock.store import scripts
from exchange_mock.store.keys import Keys
from exchange_mock.tables import ShippedTable

_ADMITTED, _REFUSED, _BANNED = 0, 1, 2
"""First element of the script's reply."""


class Interval(StrEnum):
    SECOND = "SECOND"
    MINUTE = "MINUTE"
    HOUR = "HOUR"
    DAY = "DAY"

    @property
    def ms(self) -> int:
        return _INTERVAL_MS[self]


_INTERVAL_MS = {
    Interval.SECOND: 1_000,
    Interval.MINUTE: 60_000,
    Interval.HOUR: 3_600_000,
    Interval.DAY: 86_400_000,
}


class RateLimitType(StrEnum):
    REQUEST_WEIGHT = "REQUEST_WEIGHT"
    """Sum of the endpoints' weights, per client IP."""
    ORDERS = "ORDERS"
    """New orders, per account."""


class _Table(BaseModel):
    """A part of the table: frozen, and strict so that a misspelt key in the YAML is an error
    rather than a silent default."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Span(_Table):
    """A length of time as Binance writes it: `interval_num` × `interval`."""

    interval: Interval
    interval_num: int = Field(ge=1)

    @property
    def ms(self) -> int:
        return self.interval_num * self.interval.ms

    def scaled_ms(self, time_scale: float) -> int:
        """Real milliseconds of this span in a run going `time_scale` times faster."""
        return max(1, round(self.ms / time_scale))

    @property
    def tag(self) -> str:
        """`1M`, `10S`: the suffix of the X-MBX-* headers."""
        return f"{self.interval_num}{self.interval.value[0]}"


class RateLimit(Span):
    rate_limit_type: RateLimitType
    limit: int = Field(ge=1)

    def published(self) -> dict[str, str | int]:
        """This limit as an entry of exchangeInfo's `rateLimits`."""
        return {
            "rateLimitType": self.rate_limit_type.value,
            "interval": self.interval.value,
            "intervalNum": self.interval_num,
            "limit": self.limit,
        }

    def refusal(self, ip: str, headers: dict[str, str]) -> ExchangeError:
        """Binance's 429 for going over this limit."""
        if self.rate_limit_type is RateLimitType.ORDERS:
            return ExchangeError(
                Code.TOO_MANY_ORDERS,
                f"Too many new orders; current limit is {self.limit} orders per "
                f"{self.interval_num} {self.interval.value}.",
                headers=headers,
            )
        unit = self.interval.value.lower()
        per = unit if self.interval_num == 1 else f"{self.interval_num} {unit}s"
        return ExchangeError(
            Code.TOO_MANY_REQUESTS,
            f"Too many requests; current limit of IP({ip}) request weight per {per} is "
            f"{self.limit}. Please use WebSocket Streams for live updates to avoid polling "
            "the API.",
            headers=headers,
        )


class BanPolicy(_Table):
    """How an IP that ignores Retry-After is banned: the ladder of ban lengths and its memory."""

    strikes: int = Field(ge=1)
    """Further requests refused within one Retry-After after its first 429: the `strikes`-th
    is answered with a ban (418) instead."""
    first: Span
    factor: int = Field(ge=1)
    """Each ban lasts `factor` times the previous one, up to `longest`."""
    longest: Span
    forget_after: Span
    """A ban this long ago no longer counts: the next one is `first` again."""

    @model_validator(mode="after")
    def _ladder_climbs(self) -> BanPolicy:
        if self.longest.ms < self.first.ms:
            raise ValueError("the longest ban is shorter than the first")
        return self


class WeightByLimit(_Table):
    """A weight that grows with the `limit` parameter (order book depth)."""

    default: int = Field(ge=1)
    """The `limit` when the request gives none."""
    up_to: dict[int, int] = Field(min_length=1)
    """Weight for a `limit` up to each bound; past the last bound, the heaviest."""

    @field_validator("up_to")
    @classmethod
    def _ascending(cls, up_to: dict[int, int]) -> dict[int, int]:
        return dict(sorted(up_to.items()))

    def weight(self, limit: str | None) -> int:
        wanted = int(limit) if limit is not None and limit.isdecimal() else self.default
        heaviest = max(self.up_to.values())
        return next((w for bound, w in self.up_to.items() if wanted <= bound), heaviest)


class EndpointCost(_Table):
    """What one request to an endpoint costs."""

    weight: int = Field(default=1, ge=0)
    without_symbol: int | None = Field(default=None, ge=0)
    """Weight when no `symbol` is given (all symbols at once)."""
    by_limit: WeightByLimit | None = None
    order: bool | dict[str, int] = False
    """Counts toward the account's ORDERS limits: one order in each window, or, by window tag
    (`10S`, `1M`), as many as Binance counts a request that places several (batchOrders)."""

    def weight_for(self, params: Mapping[str, str]) -> int:
        """The request weight given the request's parameters."""
        if self.by_limit is not None:
            return self.by_limit.weight(params.get("limit"))
        if self.without_symbol is not None and not params.get("symbol"):
            return self.without_symbol
        return self.weight


class RateLimitTable(_Table, ShippedTable):
    """Binance's rate-limit table as data: what is published, enforced and charged."""

    shipped = "ratelimits.yaml"

    rate_limits: tuple[RateLimit, ...] = Field(min_length=1)
    ban: BanPolicy
    default_weight: int = Field(ge=0)
    endpoints: dict[str, EndpointCost]
    """By "METHOD /path", the route's path as the router declares it."""

    @field_validator("rate_limits")
    @classmethod
    def _one_per_window(cls, limits: tuple[RateLimit, ...]) -> tuple[RateLimit, ...]:
        seen = [(limit.rate_limit_type, limit.tag) for limit in limits]
        if len(set(seen)) != len(seen):
            raise ValueError("two limits of one type share a window")
        return limits

    @field_validator("endpoints")
    @classmethod
    def _method_and_path(cls, endpoints: dict[str, EndpointCost]) -> dict[str, EndpointCost]:
        for route in endpoints:
            method, _, path = route.partition(" ")
            if method not in {"GET", "POST", "PUT", "DELETE"} or not path.startswith("/"):
                raise ValueError(f"endpoint {route!r} is not 'METHOD /path'")
        return endpoints

    def exchange_info(self) -> list[dict[str, str | int]]:
        """exchangeInfo's `rateLimits`: exactly the limits `RateLimiter` enforces."""
        return [limit.published() for limit in self.rate_limits]

    def cost(self, method: str, path: str) -> EndpointCost:
        """The cost of a request to `METHOD path`; `default_weight` for unlisted routes."""
        return self.endpoints.get(f"{method} {path}", self._unlisted)

    @cached_property
    def _unlisted(self) -> EndpointCost:
        return EndpointCost(weight=self.default_weight)


def _encoded(number: int) -> bytes:
    """A script argument encoded once, instead of by redis-py on every call."""
    return str(number).encode()


class _Window:
    """One limit as enforced in a run: its window in real milliseconds, and its header."""

    __slots__ = ("_constant_args", "header", "length_ms", "limit")

    def __init__(self, limit: RateLimit, time_scale: float, header: str) -> None:
        self.limit = limit
        self.length_ms = limit.scaled_ms(time_scale)
        self.header = f"{header}-{limit.tag}"
        self._constant_args = _encoded(limit.limit), _encoded(self.length_ms)

    def at(self, now_ms: int) -> str:
        """The name of the window holding `now_ms`: windows are aligned to the clock."""
        return f"{self.limit.tag}:{now_ms // self.length_ms}"

    def args(self, increment: int) -> tuple[int | bytes, ...]:
        """This counter's arguments to the script: increment, limit, window length."""
        return (increment, *self._constant_args)


class RateLimiter:
    """Admits or refuses requests against the table, sharing counts through Redis."""

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        table: RateLimitTable,
        time_scale: float = 1.0,
        clock_ms: Clock = wall_clock,
    ) -> None:
        self._keys = keys
        self._clock_ms = clock_ms
        self._script = redis.register_script(scripts.source("ratelimit"))
        limits = table.rate_limits
        self._weight_windows = tuple(
            _Window(limit, time_scale, "X-MBX-USED-WEIGHT")
            for limit in limits
            if limit.rate_limit_type is RateLimitType.REQUEST_WEIGHT
        )
        self._order_windows = tuple(
            _Window(limit, time_scale, "X-MBX-ORDER-COUNT")
            for limit in limits
            if limit.rate_limit_type is RateLimitType.ORDERS
        )
        ban = table.ban
        self._ban_args = tuple(
            _encoded(number)
            for number in (
                ban.strikes,
                ban.first.scaled_ms(time_scale),
                ban.factor,
                ban.longest.scaled_ms(time_scale),
                ban.forget_after.scaled_ms(time_scale),
            )
        )

    async def admit(
        self, ip: str, weight: int, account: int | None, is_order: bool | Mapping[str, int]
    ) -> dict[str, str]:
        """Count one request; the headers to send with its response, or the 429/418 to send
        instead. Refused requests count as well, as on Binance.

        `weight` is charged to `ip`; an order (`is_order`) by a known `account` also counts
        toward that account's ORDERS limits, whichever IP it comes from: one order in each
        window, or as many as `is_order` gives for the window's tag.
        """
        now = self._clock_ms()
        keys = [self._keys.rate_penalty(ip)]
        args: list[int | bytes] = [now, *self._ban_args]
        windows = self._weight_windows
        for window in self._weight_windows:
            keys.append(self._keys.rate_ip(ip, window.at(now)))
            args += window.args(weight)
        if is_order and account is not None:
            windows += self._order_windows
            for window in self._order_windows:
                keys.append(self._keys.rate_account(account, window.at(now)))
                counted = is_order.get(window.limit.tag, 1) if isinstance(is_order, Mapping) else 1
                args += window.args(counted)
        reply = cast(list[int], await self._script(keys=keys, args=args))

        if reply[0] == _BANNED:
            raise _banned(ip, until_ms=reply[1], now_ms=now)
        counts = reply[1:] if reply[0] == _ADMITTED else reply[3:]
        headers = {w.header: str(count) for w, count in zip(windows, counts, strict=True)}
        if reply[0] == _REFUSED:
            headers["Retry-After"] = _seconds_until(reply[2], now)
            raise windows[reply[1] - 1].limit.refusal(ip, headers)
        return headers


def _banned(ip: str, until_ms: int, now_ms: int) -> ExchangeError:
    return ExchangeError(
        Code.TOO_MANY_REQUESTS,
        f"Way too many requests; IP({ip}) banned until {until_ms}. Please use WebSocket "
        "Streams for live updates to avoid bans.",
        http_status=418,
        headers={"Retry-After": _seconds_until(until_ms, now_ms)},
    )


def _seconds_until(then_ms: int, now_ms: int) -> str:
    """Retry-After: whole seconds, rounded up so a client waiting that long finds it over."""
    return str(-(-(then_ms - now_ms) // 1000))
