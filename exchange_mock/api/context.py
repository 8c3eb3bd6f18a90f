"""What the request handlers need, built once by the app factory and shared by all requests: the
API context every route reads, and the operator context only the `/stampede` routes do."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis

from exchange_mock.accounts import AccountBook
from exchange_mock.api.ratelimit import RateLimitTable
from exchange_mock.clock import Clock, wall_clock
from exchange_mock.collateral import CollateralTable
from exchange_mock.faults.board import FaultBoard, LiveFaults
from exchange_mock.settings import Settings
from exchange_mock.store.bus import CommandBus
from exchange_mock.store.keys import Keys
from exchange_mock.store.listenkeys import ListenKeys
from exchange_mock.store.readmodel import ReadModel
from exchange_mock.store.scenario import ScenarioBoard
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
    collateral: CollateralTable = field(default_factory=CollateralTable.load)
    rate_limit_table: RateLimitTable = field(init=False)
    """The table the rate limiter enforces, which exchangeInfo publishes."""

    def __post_init__(self) -> None:
        table = RateLimitTable.load(self.settings.rate_limits_file)
        object.__setattr__(self, "rate_limit_table", table)


def context_of(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


@dataclass(frozen=True)
class OperatorContext:
    """The operator routes' handles on the exchange: its Redis connections and boards rather
    than the engine or the market agent, which they reach only through Redis."""

    redis: Redis
    """The exchange's own connection, which the conservation audit reads through."""
    control: Redis
    """The connection no fault slows, so an operator can always see and clear the faults."""
    keys: Keys
    fault_board: FaultBoard
    faults: LiveFaults
    """This process's copy of the faults, refreshed as soon as the operator changes them."""
    scenario: ScenarioBoard
    venues: Mapping[str, Mapping[str | None, Decimal]]
    """Each index the market agent prices: its spot venues by name (None: the venue a notional
    shock naming none trades on), each with the notional that would move it by all its price."""
    collateral: CollateralTable


def operator_of(request: Request) -> OperatorContext:
    context: OperatorContext = request.app.state.operator
    return context


async def get_context(request: Request) -> ApiContext:
    """FastAPI dependency; async so FastAPI does not hand it to a thread pool."""
    return context_of(request)


Context = Annotated[ApiContext, Depends(get_context)]
