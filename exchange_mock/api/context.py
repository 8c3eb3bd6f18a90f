"""What every request handler needs, built once by the app factory and shared by all requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from exchange_mock.accounts import AccountBook
from exchange_mock.api.ratelimit import RateLimitTable
from exchange_mock.clock import Clock, wall_clock
from exchange_mock.settings import Settings
from exchange_mock.store.bus import CommandBus
from exchange_mock.store.listenkeys import ListenKeys
from exchange_mock.store.readmodel import ReadModel
from exchange_mock.symbols import SymbolTable


@dataclass(frozen=True)
class ApiContext:
    settings: Settings
    symbols: SymbolTable
    accounts: AccountBook
    bus: CommandBus
    reads: ReadModel
    listen_keys: ListenKeys
    clock: Clock = wall_clock
    rate_limit_table: RateLimitTable = field(init=False)
    """The table the rate limiter enforces, which exchangeInfo publishes."""

    def __post_init__(self) -> None:
        table = RateLimitTable.load(self.settings.rate_limits_file)
        object.__setattr__(self, "rate_limit_table", table)


def context_of(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


async def get_context(request: Request) -> ApiContext:
    """FastAPI dependency; async so FastAPI does not hand it to a thread pool."""
    return context_of(request)


Context = Annotated[ApiContext, Depends(get_context)]
