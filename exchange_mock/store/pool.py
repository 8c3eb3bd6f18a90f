"""The exchange's Redis connection pool: bounded, and cheap when a connection is free.

Bounded, so that under a surge requests queue for a connection and the wait shows in their
latency, as it would on a real venue's store tier. redis-py's `BlockingConnectionPool` bounds it,
but for every command it takes a lock, arms a timeout and probes the socket for unread data: on
the hottest read (positionRisk, about 1000x in a cascade) that cost more than the round trip.
Here a free connection is handed out with a list pop, and the blocking pool's own path is taken
only when none is free or others are already waiting, so waiters are served first, in order.

A connection that cannot be made raises `Unreachable`: the command it was for was never sent,
which an order's caller needs to tell apart from a connection lost with the command in flight.

Skipping the probe is safe: a connection whose command was interrupted (timeout, cancellation,
error) is disconnected by redis-py on the spot, so no connection returns with a reply unread.
"""

from __future__ import annotations

from typing import Any, cast

from redis.asyncio import BlockingConnectionPool
from redis.asyncio.connection import AbstractConnection

from exchange_mock.store.outage import REDIS_DOWN, Unreachable


class BoundedPool(BlockingConnectionPool):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._waiting = 0
        """Checkouts queued in the blocking pool's path; a free connection is theirs first."""

    async def get_connection(self, *args: Any, **kwargs: Any) -> AbstractConnection:
        if not self._waiting and self._available_connections:
            connection = self._available_connections[-1]
            if connection.is_connected:
                self._available_connections.pop()
                self._in_use_connections.add(connection)
                return connection
        self._waiting += 1
        try:
            connection = await super().get_connection()  # type: ignore[no-untyped-call]
        except REDIS_DOWN as error:
            raise Unreachable(str(error)) from error
        finally:
            self._waiting -= 1
        return cast(AbstractConnection, connection)

    async def release(self, connection: AbstractConnection) -> None:
        if self._waiting or connection.should_reconnect():  # type: ignore[no-untyped-call]
            await super().release(connection)
            return
        self._in_use_connections.remove(connection)
        self._available_connections.append(connection)
