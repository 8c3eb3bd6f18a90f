"""Reads of the projector's read model (and the engine's published market data) for the API."""

from __future__ import annotations

from redis.asyncio import Redis

from exchange_mock.domain.events import OrderSnapshot
from exchange_mock.store.keys import Keys
from exchange_mock.store.views import AccountView, DepthView, MarkView, TickerView
from exchange_mock.types import AccountId, OrderId


class ReadModel:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    async def account(self, account: AccountId, symbols: list[str]) -> AccountView:
        """Balance, positions, leverage and marks for `symbols`, with the sequences, in one trip."""
        raise NotImplementedError

    async def order(
        self, account: AccountId, order_id: OrderId | None, client_order_id: str | None
    ) -> OrderSnapshot | None:
        raise NotImplementedError

    async def open_orders(self, account: AccountId, symbol: str | None) -> list[OrderSnapshot]:
        raise NotImplementedError

    async def depth(self, symbol: str, limit: int) -> DepthView:
        raise NotImplementedError

    async def ticker(self, symbol: str) -> TickerView:
        raise NotImplementedError

    async def mark(self, symbol: str) -> MarkView:
        raise NotImplementedError
