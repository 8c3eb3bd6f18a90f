"""WebSocket connection attempts per client address, counted in fixed windows shared by every
API worker (`p:rl:ws:<ip>:<window>`, see `keys`), so one address cannot open connections
without bound by spreading them over the workers."""

from __future__ import annotations

from collections.abc import Callable

from redis.asyncio import Redis

from exchange_mock.clock import wall_clock
from exchange_mock.store.keys import Keys

WINDOW_MS = 300_000
"""Binance's window for connection attempts: 5 minutes."""


class ConnectionAttempts:
    def __init__(
        self, redis: Redis, keys: Keys, limit: int, clock: Callable[[], int] = wall_clock
    ) -> None:
        self._redis = redis
        self._keys = keys
        self.limit = limit
        self._clock = clock

    async def admit(self, ip: str) -> bool:
        """Count one attempt from `ip`; False when it is over the limit in this window."""
        key = self._keys.ws_attempts(ip, self._clock() // WINDOW_MS)
        pipe = self._redis.pipeline(transaction=True)
        pipe.incr(key)
        pipe.pexpire(key, WINDOW_MS)
        count, _ = await pipe.execute()
        return int(count) <= self.limit
