"""`create_app(settings)`: the one place that wires the exchange's parts into an ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from exchange_mock.api import (
    account,
    account_history,
    admin,
    batch_orders,
    health,
    market_data,
    openapi,
    orders,
    position_settings,
    scenario,
    userstream,
    ws,
)
from exchange_mock.api.context import ApiContext, OperatorContext
from exchange_mock.api.errors import install_error_handlers
from exchange_mock.api.middleware import Edge, EdgeMiddleware
from exchange_mock.api.ratelimit import RateLimiter
from exchange_mock.api.userstream import listen_key_index
from exchange_mock.collateral import CollateralTable
from exchange_mock.feeds import streams
from exchange_mock.lifetime import die_with_spawner
from exchange_mock.market.venues import VenueTable
from exchange_mock.node import Fatal, Node
from exchange_mock.settings import Settings
from exchange_mock.store.listenkeys import ListenKeys
from exchange_mock.store.scenario import ScenarioBoard
from exchange_mock.store.wsattempts import ConnectionAttempts
from exchange_mock.telemetry.asgi import MetricsMiddleware


def create_app(settings: Settings, on_fatal: Fatal | None = None) -> FastAPI:
    """`on_fatal` hears of a role that ended for good (see `Node`)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with Node(settings, on_fatal) as node:
            app.state.liveness = node.liveness
            app.state.outages = set()
            listen_keys = ListenKeys(node.redis, node.keys, settings.listen_key_ttl_s * 1000)
            collateral = CollateralTable.load()
            context = ApiContext(
                settings=settings,
                symbols=node.symbols,
                accounts=node.accounts,
                bus=node.bus,
                reads=node.reads,
                listen_keys=listen_keys,
                collateral=collateral,
            )
            app.state.context = context
            app.state.operator = OperatorContext(
                redis=node.redis,
                control=node.control,
                keys=node.keys,
                fault_board=node.fault_board,
                faults=node.faults,
                scenario=ScenarioBoard(node.control, node.keys),
                venues={
                    index.name: {
                        None: index.default_venue().whole_notional,
                        **{venue.name: venue.whole_notional for venue in index.venues},
                    }
                    for index in VenueTable.load().indexes
                },
                collateral=collateral,
            )
            table = context.rate_limit_table
            limiter = (
                RateLimiter(node.redis, node.keys, table, settings.time_scale)
                if settings.rate_limits
                else None
            )
            app.state.edge = Edge(settings, node.accounts, table, node.faults, limiter)
            node.vitals.attach_edge(app.state.edge)
            if node.relay is not None:
                app.state.ws = ws.WsContext(
                    node.relay,
                    listen_key_index(node.accounts),
                    listen_keys,
                    streams.produced(node.symbols.by_name),
                    ConnectionAttempts(node.redis, node.keys, settings.ws_connections_per_5m),
                    settings.trusted_proxies,
                )
            yield

    app = FastAPI(
        title="Stampede exchange mock",
        summary="A subset of the Binance USDⓈ-M Futures API over a real engine pipeline.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.openapi = openapi.describe(app)  # type: ignore[method-assign]
    app.add_middleware(EdgeMiddleware)
    app.add_middleware(MetricsMiddleware)  # outermost: sees the edge's refusals, serves /metrics
    for module in (
        account,
        orders,
        batch_orders,
        account_history,
        market_data,
        position_settings,
        userstream,
        ws,
        admin,
        scenario,
        health,
    ):
        # Flat rather than `include_router`: FastAPI re-resolves an included router's routes on
        # every request, and these never change once the app is built. Hottest first.
        app.router.routes.extend(module.router.routes)
    return app


def app_from_env() -> FastAPI:
    """Factory for uvicorn worker processes: settings come from `STAMPEDE_*` variables. A worker
    ends with the process that started it, even one SIGKILLed."""
    die_with_spawner()
    return create_app(Settings())
