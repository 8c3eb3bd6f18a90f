"""The market agent: each round it moves the simulated venues, publishes the oracle's marks and
collateral prices, and has the market makers requote every book but a delivered contract's
(which takes no orders). Makers are background accounts trading through the same command bus
as any client, so their orders are journaled, margined and conserved like everyone's; marks
reach the engine as `UpdateMarkPrice` commands, so the engine stays pure and a replay sees the
same marks.

Each round also applies the operator's knobs (`store/scenario.py`): oracle modes, depth
withdrawal, and venue shocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Sequence

from exchange_mock.accounts import ApiAccount
from exchange_mock.clock import Clock, wall_clock
from exchange_mock.collateral import CollateralTable
from exchange_mock.domain.commands import CancelOrder, PlaceOrder
from exchange_mock.domain.replies import Done, Reply
from exchange_mock.errors import ConfigError, ExchangeError
from exchange_mock.market.oracle import Oracle, OracleMode, OwnBook
from exchange_mock.market.quoting import Quote, QuotePolicy, Quoter
from exchange_mock.market.venues import VenueTable
from exchange_mock.settings import Settings
from exchange_mock.store.bus import CommandBus
from exchange_mock.store.outage import REDIS_DOWN, out_of_memory
from exchange_mock.store.readmodel import ReadModel
from exchange_mock.store.scenario import EVERY, Scenario, ScenarioBoard, VenueShock
from exchange_mock.symbols import SymbolSpec, SymbolTable
from exchange_mock.types import AccountId, OrderId, OrderType, Side, Ticks, TimeInForce

log = logging.getLogger(__name__)

READ_MODEL_POLL_S = 0.05


def apply_shock(oracle: Oracle, shock: VenueShock) -> None:
    """Move the venues as the operator asked: a percentage on one venue (or, with none named,
    the whole market), or a market order on one venue (the own one by default)."""
    venues = oracle.venues.get(shock.index)
    if venues is None:
        raise ConfigError(f"no venues price {shock.index}")
    if shock.pct is not None:
        venues.move(shock.pct, shock.venue, everywhere=shock.venue is None)
    elif shock.notional is not None:
        venues.trade(shock.notional, shock.venue)


def apply_modes(oracle: Oracle, modes: dict[str, str]) -> None:
    """`*` first, then the per-name settings."""
    every = modes.get(EVERY)
    if every is not None:
        oracle.set_mode(OracleMode(every))
    for name, mode in modes.items():
        if name != EVERY and name in oracle.modes:
            oracle.set_mode(OracleMode(mode), name)


class MarketAgent:
    def __init__(
        self,
        bus: CommandBus,
        symbols: SymbolTable,
        makers: Sequence[ApiAccount],
        settings: Settings,
        reads: ReadModel,
        board: ScenarioBoard,
        clock_ms: Clock = wall_clock,
    ) -> None:
        self._bus = bus
        self._symbols = symbols
        self._makers = makers
        self._settings = settings
        self._reads = reads
        self._board = board
        self._clock_ms = clock_ms
        self.oracle = Oracle(
            symbols,
            VenueTable.load(),
            CollateralTable.load(),
            random.Random(settings.random_seed),
            clock_ms(),
            funding_interval_ms=settings.funding_period_ms,
        )
        policy = QuotePolicy.from_settings(settings)
        self._quoters = {
            spec.symbol: Quoter(spec, policy.for_contract(spec, settings.maker_dated_levels))
            for spec in symbols.symbols
        }
        self._depth = 1.0
        self._sequence = 0
        self._resting: dict[tuple[AccountId, str], list[OrderId]] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """A round every interval until `stop` is set, once the read model has applied the
        journal as it stands, genesis included. Makers price from the last trade it shows, and
        until then that is whichever genesis trade it reached: a crowd opens its positions at
        entries a few percent from the price, and quotes around one of them would move the
        market before any shock did."""
        await self._reads.caught_up(stop, READ_MODEL_POLL_S)
        while not stop.is_set():
            started = time.monotonic()
            try:
                await self.round()
            except ExchangeError as exc:
                log.warning("market round failed: %s", exc)
            except REDIS_DOWN:
                # An outage, not a bad round: the agent waits for Redis and starts again.
                raise
            except Exception as error:
                if out_of_memory(error):
                    raise
                # One bad round (a malformed knob on the board, a shock the model refuses)
                # must not end the market: marks would freeze while health still says up.
                log.exception("market round failed; the next one runs as usual")
            elapsed = time.monotonic() - started
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    stop.wait(), max(0.0, self._settings.maker_interval_ms / 1000 - elapsed)
                )

    async def round(self) -> None:
        self._apply(await self._board.take())
        now = self._clock_ms()
        self.oracle.step(now)
        books = await self._books()
        await asyncio.gather(*(self._bus.submit(c) for c in self.oracle.observe(now, books)))
        await asyncio.gather(
            *(
                self._requote(spec, books[spec.symbol])
                for spec in self._symbols.symbols
                if not spec.delivered(now)
            )
        )

    def _apply(self, scenario: Scenario) -> None:
        apply_modes(self.oracle, scenario.modes)
        self._depth = max(0.0, 1 - scenario.depth_pct / 100)
        for shock in scenario.shocks:
            try:
                apply_shock(self.oracle, shock)
            except ConfigError as exc:
                log.warning("shock ignored: %s", exc)

    async def _books(self) -> dict[str, OwnBook]:
        specs = self._symbols.symbols
        depths = await asyncio.gather(*(self._reads.depth(spec.symbol, 1) for spec in specs))
        tickers = await asyncio.gather(*(self._reads.ticker(spec.symbol) for spec in specs))
        return {
            spec.symbol: OwnBook(
                depth.bids[0][0] if depth.bids else None,
                depth.asks[0][0] if depth.asks else None,
                # The genesis price opens the ticker; makers follow the oracle until a trade.
                ticker.last_price if ticker.count else None,
            )
            for spec, depth, ticker in zip(specs, depths, tickers, strict=True)
        }

    async def _requote(self, spec: SymbolSpec, book: OwnBook) -> None:
        symbol = spec.symbol
        last = self.oracle.marks[symbol] if book.last is None else book.last * float(spec.tick_size)
        quoter = self._quoters[symbol]
        quoter.update(last, self.oracle.indexes[spec.pair])
        await asyncio.gather(
            *(
                self._requote_one(spec, maker, quoter.ladder(self._depth, offset))
                for offset, maker in enumerate(self._makers)
            )
        )

    async def _requote_one(self, spec: SymbolSpec, maker: ApiAccount, quotes: list[Quote]) -> None:
        """Place the new ladder before pulling the old one, so the book never goes empty."""
        replies = await asyncio.gather(
            *(self._place(spec, maker, side, price, lots) for side, price, lots in quotes)
        )
        placed = [o.order_id for r in replies if isinstance(r, Done) for o in r.orders[:1]]
        stale = self._resting.get((maker.id, spec.symbol), [])
        self._resting[(maker.id, spec.symbol)] = placed
        await asyncio.gather(
            *(
                self._bus.submit(
                    CancelOrder(maker.id, spec.symbol, order_id, None, self._clock_ms())
                )
                for order_id in stale
            )
        )

    async def _place(
        self, spec: SymbolSpec, maker: ApiAccount, side: Side, price: Ticks, lots: int
    ) -> Reply:
        self._sequence += 1
        return await self._bus.submit(
            PlaceOrder(
                account=maker.id,
                symbol=spec.symbol,
                side=side,
                type=OrderType.LIMIT,
                qty=lots,
                price=price,
                time_in_force=TimeInForce.GTC,
                reduce_only=False,
                client_order_id=f"mm-{maker.id}-{self._sequence}",
                ts=self._clock_ms(),
            )
        )
