"""Which listen keys are live: one Redis key per listen key (`p:listenkey:<key>`, see `keys`)
holding its account, expiring by itself `ttl_ms` after the last start or keepalive, as
Binance's keys do after 60 minutes. In Redis, not in a process, because the POST, the PUT, the
DELETE and the WebSocket connection may each reach a different API worker."""

from __future__ import annotations

from redis.asyncio import Redis

from exchange_mock.store.keys import Keys
from exchange_mock.types import AccountId


class ListenKeys:
    def __init__(self, redis: Redis, keys: Keys, ttl_ms: int) -> None:
        self._redis = redis
        self._keys = keys
        self.ttl_ms = ttl_ms

    async def start(self, key: str, account: AccountId) -> None:
        """Make `key` live for a full TTL, whether it was or not."""
        await self._redis.set(self._keys.listen_key(key), account, px=self.ttl_ms)

    async def keep_alive(self, key: str) -> bool:
        """Extend a live key by a full TTL; False when it is not live (expired or closed)."""
        return bool(await self._redis.pexpire(self._keys.listen_key(key), self.ttl_ms))

    async def close(self, key: str) -> None:
        await self._redis.delete(self._keys.listen_key(key))

    async def remaining_ms(self, key: str) -> int:
        """How long `key` stays live without a keepalive; 0 when it is not live."""
        return max(0, int(await self._redis.pttl(self._keys.listen_key(key))))
