"""Market makers: background accounts that keep both sides of every book quoted around the
reference price, so market orders fill and depth exists. They trade through the same command
bus as any client, so their orders are journaled, margined and conserved like everyone's."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence

from exchange_mock.accounts import Account
from exchange_mock.domain.commands import CancelOrder, PlaceOrder, UpdateMarkPrice
from exchange_mock.domain.replies import Done, Reply
from exchange_mock.errors import ExchangeError
from exchange_mock.market.reference import ReferencePrice
from exchange_mock.settings import Settings
from exchange_mock.store.bus import CommandBus
from exchange_mock.symbols import SymbolSpec, SymbolTable
from exchange_mock.types import AccountId, Millis, OrderId, OrderType, Side, Ticks, TimeInForce

log = logging.getLogger(__name__)


def ladder(
    spec: SymbolSpec,
    reference: Ticks,
    *,
    levels: int,
    spread_bps: int,
    step_bps: int,
    notional: float,
    offset: int,
) -> list[tuple[Side, Ticks, int]]:
    """(side, price, lots) quotes: `levels` per side, the inner one `spread_bps` from the
    reference, each further one `step_bps` out; `offset` ticks stagger makers apart."""
    quotes: list[tuple[Side, Ticks, int]] = []
    lot_value = float(spec.step_size)
    for level in range(levels):
        distance = (spread_bps + level * step_bps) / 10_000
        bid = int(reference * (1 - distance)) - offset
        ask = -int(-reference * (1 + distance)) + offset
        for side, price in ((Side.BUY, bid), (Side.SELL, ask)):
            price_value = price * float(spec.tick_size)
            lots = max(1, int(notional / (price_value * lot_value)))
            quotes.append((side, price, lots))
    return quotes


class MarketMakers:
    def __init__(
        self,
        bus: CommandBus,
        symbols: SymbolTable,
        makers: Sequence[Account],
        settings: Settings,
        clock_ms: Callable[[], Millis] = lambda: int(time.time() * 1000),
    ) -> None:
        self._bus = bus
        self._symbols = symbols
        self._makers = makers
        self._settings = settings
        self._clock_ms = clock_ms
        rng = random.Random(settings.random_seed)
        self.references = {
            spec.symbol: ReferencePrice(spec, settings.maker_volatility_bps, rng)
            for spec in symbols.symbols
        }
        self._sequence = 0
        self._resting: dict[tuple[AccountId, str], list[OrderId]] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Requote every interval until `stop` is set."""
        while not stop.is_set():
            started = time.monotonic()
            await asyncio.gather(*(self.requote(spec) for spec in self._symbols.symbols))
            elapsed = time.monotonic() - started
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    stop.wait(), max(0.0, self._settings.maker_interval_ms / 1000 - elapsed)
                )

    async def requote(self, spec: SymbolSpec) -> None:
        reference = self.references[spec.symbol].step()
        try:
            await self._bus.submit(UpdateMarkPrice(spec.symbol, reference, self._clock_ms()))
            await asyncio.gather(
                *(
                    self._requote_one(spec, maker, offset, reference)
                    for offset, maker in enumerate(self._makers)
                )
            )
        except ExchangeError as exc:
            log.warning("market maker requote on %s failed: %s", spec.symbol, exc)

    async def _requote_one(
        self, spec: SymbolSpec, maker: Account, offset: int, reference: Ticks
    ) -> None:
        """Place the new ladder before pulling the old one, so the book never goes empty."""
        settings = self._settings
        quotes = ladder(
            spec,
            reference,
            levels=settings.maker_levels,
            spread_bps=settings.maker_spread_bps,
            step_bps=settings.maker_step_bps,
            notional=float(settings.maker_notional),
            offset=offset,
        )
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
        self, spec: SymbolSpec, maker: Account, side: Side, price: Ticks, lots: int
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
