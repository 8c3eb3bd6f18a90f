"""`create_app(settings)`: the one place that wires the exchange's parts into an ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from exchange_mock.api import account, admin, market, orders, userstream
from exchange_mock.api.context import ApiContext
from exchange_mock.api.errors import install_error_handlers
from exchange_mock.node import Node
from exchange_mock.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with Node(settings) as node:
            app.state.node = node
            app.state.context = ApiContext(
                settings=settings,
                symbols=node.symbols,
                accounts=node.accounts,
                bus=node.bus,
                reads=node.reads,
            )
            yield

    app = FastAPI(
        title="Stampede exchange mock",
        summary="A subset of the Binance USDⓈ-M Futures API over a real engine pipeline.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for module in (market, orders, account, userstream, admin):
        app.include_router(module.router)
    return app


def app_from_env() -> FastAPI:
    """Factory for uvicorn worker processes: settings come from `STAMPEDE_*` variables."""
    return create_app(Settings())
