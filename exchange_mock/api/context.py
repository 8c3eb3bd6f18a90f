"""What every request handler needs, built once by the app factory and shared by all requests."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from exchange_mock.accounts import AccountBook
from exchange_mock.settings import Settings
from exchange_mock.store.bus import CommandBus
from exchange_mock.store.readmodel import ReadModel
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import Millis

Clock = Callable[[], Millis]
"""The server's clock in milliseconds; injected so auth and command stamps are testable."""


def wall_clock() -> Millis:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class ApiContext:
    settings: Settings
    symbols: SymbolTable
    accounts: AccountBook
    bus: CommandBus
    reads: ReadModel
    clock: Clock = wall_clock
    symbol_names: list[str] = field(init=False)
    """Every listed symbol, in table order: what an account read asks for when none is named."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "symbol_names", [spec.symbol for spec in self.symbols.symbols])


def context_of(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


async def get_context(request: Request) -> ApiContext:
    """FastAPI dependency; async so FastAPI does not hand it to a thread pool."""
    return context_of(request)


Context = Annotated[ApiContext, Depends(get_context)]
