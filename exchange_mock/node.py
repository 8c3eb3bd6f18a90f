"""One process's share of the exchange: the Redis connection, the shared tables, and the
background roles (engine, projector, the market agent with its makers) its settings name.

The same code runs everything in one process (the embedded default) or each role in its own
process or container: only `Settings.roles` differs.

Two Redis clients: `redis` carries the exchange's own traffic, through connections that add
whatever Redis latency the faults inject (and time each round trip for the metrics); `control`
carries the fault board, the operator's reads and the metrics' samples, which no fault slows, so
an operator can always see and clear what they switched on. Both time out rather than hang, and
every role outlives a lost connection (`store/outage.py`). A role that ends otherwise cannot
recover: `on_fatal` hears of it, and ends the process so that its supervisor restarts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any

from redis.asyncio import Redis

from exchange_mock.accounts import AccountBook
from exchange_mock.clock import wall_clock
from exchange_mock.collateral import CollateralTable
from exchange_mock.domain.commands import Command, FundAccount, UpdateMarkPrice
from exchange_mock.engine.adl import REFRESH_MS as ADL_REFRESH_MS
from exchange_mock.engine.core import Engine
from exchange_mock.engine.runner import EngineRunner
from exchange_mock.errors import ConfigError
from exchange_mock.faults.board import FaultBoard, LiveFaults
from exchange_mock.faults.kinds import CRASHABLE_ROLES
from exchange_mock.faults.role_crash import CrashOrders
from exchange_mock.faults.stale import LaggingReadModel
from exchange_mock.feeds.publisher import FeedPublisher
from exchange_mock.feeds.relay import FeedRelay
from exchange_mock.heartbeat import Heartbeat
from exchange_mock.liveness import Liveness, RoleTask
from exchange_mock.market.agent import MarketAgent
from exchange_mock.market.genesis import risk_genesis
from exchange_mock.projector.history import HistoryBounds
from exchange_mock.projector.runner import Projector
from exchange_mock.settings import Crowd, Role, Settings
from exchange_mock.store import scripts
from exchange_mock.store.bus import CommandBus, Shedding
from exchange_mock.store.keys import Keys
from exchange_mock.store.listing import settle_listing
from exchange_mock.store.outage import OutageLog, keep_running
from exchange_mock.store.pool import BoundedPool
from exchange_mock.store.scenario import ScenarioBoard
from exchange_mock.symbols import SymbolTable, to_cash, to_ppm
from exchange_mock.telemetry.hooks import ack_observed
from exchange_mock.telemetry.redis_latency import MeasuredConnection
from exchange_mock.telemetry.sampler import PipelineSampler
from exchange_mock.telemetry.vitals import RoundTrips, VitalsReporter
from exchange_mock.types import Millis

log = logging.getLogger(__name__)


def genesis(
    accounts: AccountBook,
    symbols: SymbolTable,
    ts: Millis,
    crowd: Crowd | None = None,
    seed: int = 0,
) -> list[Command]:
    """What an empty journal starts with: every account funded, every symbol's first mark, then
    the insurance fund, the traders' collateral, the operator's shock account and the crowd."""
    commands: list[Command] = [
        FundAccount(account.id, to_cash(account.initial_balance), ts)
        for account in accounts.accounts
    ]
    for spec in symbols.symbols:
        ticks = spec.ticks(spec.reference_price)
        if ticks is None:
            raise ConfigError(f"{spec.symbol}: reference price is not a whole number of ticks")
        commands.append(UpdateMarkPrice(spec.symbol, ticks, ts))
    return commands + risk_genesis(accounts, symbols, CollateralTable.load(), ts, crowd, seed)


Fatal = Callable[[str], None]
"""Told why a role ended for good."""


class Node:
    def __init__(self, settings: Settings, on_fatal: Fatal | None = None) -> None:
        if settings.redis_url is None:
            raise ConfigError("Node needs a Redis URL; the CLI starts an embedded server first")
        self.settings = settings
        self.keys = Keys(settings.key_prefix)
        self.symbols = SymbolTable.load(settings.symbols_file)
        """The contracts; the quarterlies are dated on entering (`store/listing.py`)."""
        self.accounts = AccountBook.from_settings(settings)
        timeout_s = settings.redis_timeout_ms / 1000
        self.control = Redis.from_url(
            settings.redis_url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        self.fault_board = FaultBoard(self.control, self.keys)
        self.faults = LiveFaults(self.fault_board)
        """The faults in force, as this process last saw them: `faults.value(kind)`."""
        round_trips = RoundTrips()
        self.redis = Redis(
            connection_pool=BoundedPool.from_url(
                settings.redis_url,
                max_connections=settings.redis_pool,
                timeout=None,
                socket_timeout=timeout_s,
                socket_connect_timeout=timeout_s,
                connection_class=MeasuredConnection,
                faults=self.faults,
                streams=(self.keys.orders, self.keys.journal),
                read_scripts=[scripts.sha(name) for name in scripts.READ_ONLY],
                round_trips=round_trips,
            )
        )
        shedding = None
        if settings.shed_queue_depth:
            makers = frozenset(account.id for account in self.accounts.makers)
            shedding = Shedding(settings.shed_queue_depth, makers)
        self.bus = CommandBus(
            self.redis, self.keys, settings.ack_timeout_ms, shedding, observe_ack=ack_observed
        )
        self.reads = LaggingReadModel(self.redis, self.keys, self.faults)
        self.relay = (
            FeedRelay(self.redis, self.keys, settings.ws_send_queue)
            if Role.API in settings.roles
            else None
        )
        """Relays the feed channels to this process's WebSocket clients (API processes only)."""
        self.liveness = Liveness(
            self.control,
            self.keys,
            settings.stuck_after_ms,
            [role.value for role in settings.peer_roles],
        )
        self._on_fatal = on_fatal
        self.vitals = VitalsReporter(
            self.control,
            self.keys,
            self.bus.worker,
            [role.value for role in settings.roles],
            round_trips,
            self.bus,
            settings.vitals_interval_ms,
        )
        """This process's vitals, for the operator's snapshot; an API process attaches its
        edge once built."""
        self._running: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    async def __aenter__(self) -> Node:
        settings, roles = self.settings, self.settings.roles
        self.symbols = await settle_listing(self.control, self.keys, self.symbols, wall_clock())
        if Role.ENGINE in roles:
            # One engine per exchange, so its start is when the configured faults take over.
            await self.fault_board.replace(settings.faults)
        await self.faults.refresh()
        self._spawn("faults", self.faults.run)
        await self.bus.start()
        if Role.ENGINE in roles:
            collateral = CollateralTable.load().assets
            runner = EngineRunner(
                self.redis,
                self.keys,
                lambda: Engine(
                    self.symbols,
                    settings.default_leverage,
                    collateral,
                    to_ppm(settings.margin_call_ratio),
                    max(1, round(ADL_REFRESH_MS / settings.time_scale)),
                ),
                [spec.symbol for spec in self.symbols.symbols],
                settings.engine_batch,
                settings.depth_levels,
                genesis(
                    self.accounts,
                    self.symbols,
                    wall_clock(),
                    settings.crowd,
                    settings.random_seed,
                ),
                self.faults,
                snapshot_interval_ms=settings.snapshot_interval_ms,
            )
            self._spawn("engine", runner.run)
        if Role.PROJECTOR in roles:
            bounds = HistoryBounds(settings.history_window_ms, settings.history_rows)
            projector = Projector(
                self.redis,
                self.keys,
                self.symbols,
                settings.projector_batch,
                bounds,
                self.faults,
                order_retention_ms=settings.order_retention_ms,
            )
            self._spawn("projector", projector.run)
        if Role.MAKERS in roles and self.accounts.makers:
            board = ScenarioBoard(self.control, self.keys)
            agent = MarketAgent(
                self.bus, self.symbols, self.accounts.makers, settings, self.reads, board
            )
            self._spawn("makers", agent.run)
        if Role.FEEDS in roles:
            publisher = FeedPublisher(
                self.redis,
                self.keys,
                self.symbols,
                settings.feed_batch,
                settings.force_order_interval_ms,
                self.faults,
                funding_interval_ms=settings.funding_period_ms,
            )
            self._spawn("feeds", publisher.run)
        if self.relay is not None:
            self._spawn("relay", self.relay.run)
        self._spawn(
            "metrics",
            PipelineSampler(
                self.control, self.keys, self.symbols, roles, self.relay,
                settings.metrics_interval_ms,
            ).run,
        )  # fmt: skip
        if settings.vitals_interval_ms:
            self._spawn("vitals", self.vitals.run)
        background = {role.value for role in roles - {Role.API}}
        if background:
            heartbeat = Heartbeat(self.control, self.keys, background, self.liveness.roles_running)
            self._spawn("heartbeat", heartbeat.run)
        crashable = background & CRASHABLE_ROLES
        if crashable and Role.API not in roles:
            # Only a process without the API: its supervisor starts it again (`role_crash.py`).
            self._spawn("crash orders", CrashOrders(self.control, self.keys, crashable).run)
        # What start built (tables, accounts, the app) lives as long as the process: frozen out
        # of the collector, a full collection no longer walks it, which otherwise stalled every
        # request in flight for tens of milliseconds (the positionRisk benchmark's p99: 35 ms).
        gc.freeze()
        return self

    def _spawn(self, name: str, run: Callable[[asyncio.Event], Coroutine[Any, Any, None]]) -> None:
        stop, outage = asyncio.Event(), OutageLog(name)
        task = asyncio.create_task(keep_running(name, run, stop, self.control, outage), name=name)
        task.add_done_callback(lambda done: self._ended(done, stop))
        self.liveness.roles.append(RoleTask(name, task, outage))
        self._running.append((stop, task))

    def _ended(self, task: asyncio.Task[None], stop: asyncio.Event) -> None:
        """A role ended: for good, unless asked to (`stop`) and without an error."""
        error = None if task.cancelled() else task.exception()
        if stop.is_set() and error is None:
            return
        log.error("%s stopped", task.get_name(), exc_info=error)
        if self._on_fatal is not None:
            self._on_fatal(f"{task.get_name()} stopped: {error!r}")

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Last started, first stopped: the makers still get their replies from the engine.
        for stop, task in reversed(self._running):
            stop.set()
            with contextlib.suppress(Exception):
                await task
        await self.bus.stop()
        await self.redis.aclose()
        await self.control.aclose()
        gc.unfreeze()
