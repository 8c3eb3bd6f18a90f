"""The operator's market knobs, kept in Redis so any API worker can set them and the market
agent (wherever it runs) reads them each round:

- `p:scenario` (hash): `oracle:*` (every symbol and asset) and `oracle:<name>` (one symbol or
  collateral asset) -> `spot` / `index`; `depth_pct` -> the share of depth makers withdraw;
- `p:shocks` (list): venue shocks (JSON) waiting for the agent, taken all at once.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import asdict, dataclass, field
from typing import cast

import orjson
from redis.asyncio import Redis

from exchange_mock.store.keys import Keys

EVERY = "*"
"""The `oracle:` field naming every symbol and asset."""


@dataclass(frozen=True, slots=True)
class VenueShock:
    """Move one index's venues: `pct` percent, or a market order of `notional` USDT
    (negative sells) — on `venue`, or (None) the own venue for a notional, every venue for a
    percentage."""

    index: str
    venue: str | None = None
    pct: float | None = None
    notional: float | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    modes: dict[str, str] = field(default_factory=dict)
    """`*` for every name, then per symbol or asset; later settings win."""
    depth_pct: float = 0.0
    shocks: list[VenueShock] = field(default_factory=list)


class ScenarioBoard:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    async def set_oracle(self, mode: str, name: str | None) -> None:
        """One name's mode, or (None) every name's, clearing the per-name settings."""
        key = self._keys.scenario
        if name is not None:
            await cast(Awaitable[int], self._redis.hset(key, f"oracle:{name}", mode))
            return
        fields = await cast(Awaitable[list[bytes]], self._redis.hkeys(key))
        pipe = self._redis.pipeline(transaction=True)
        stale = [f.decode() for f in fields if f.startswith(b"oracle:")]
        if stale:
            pipe.hdel(key, *stale)
        pipe.hset(key, f"oracle:{EVERY}", mode)
        await pipe.execute()

    async def set_depth(self, pct: float) -> None:
        await cast(Awaitable[int], self._redis.hset(self._keys.scenario, "depth_pct", str(pct)))

    async def push_shock(self, shock: VenueShock) -> None:
        payload = orjson.dumps(asdict(shock))
        await cast(Awaitable[int], self._redis.rpush(self._keys.shocks, payload))

    async def take(self) -> Scenario:
        """The knobs, and the shocks queued since the last call (removed)."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.hgetall(self._keys.scenario)
        pipe.lrange(self._keys.shocks, 0, -1)
        pipe.delete(self._keys.shocks)
        fields, queued, _ = await pipe.execute()
        modes: dict[str, str] = {}
        every = fields.get(f"oracle:{EVERY}".encode())
        if every is not None:
            modes[EVERY] = every.decode()
        for name, value in fields.items():
            kind, _, target = name.decode().partition(":")
            if kind == "oracle" and target != EVERY:
                modes[target] = value.decode()
        shocks = [VenueShock(**orjson.loads(raw)) for raw in queued]
        return Scenario(modes, float(fields.get(b"depth_pct", 0)), shocks)
