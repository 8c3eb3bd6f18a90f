"""The oracle: venues and the exchange's own books in, marks and collateral prices out, as the
commands the engine journals (`UpdateMarkPrice`, `UpdateCollateralPrice`).

The oracle mode is set per symbol and per collateral asset:

- `spot`: the mark is the exchange's own book (its mid, or last trade), and a collateral asset
  is priced by its own thin book — the design in force until October 14, 2025, which one
  venue's dump could knock over;
- `index`: the mark is the median of Binance's three components over the capped multi-venue
  index, and collateral is priced at its capped index within [floor, redemption rate].

Funding follows the marks: when a perpetual's funding interval ends, its mark is followed by a
`SettleFunding` at the rate the interval's premium average came to. Intervals are aligned on
multiples of their length since the epoch (Binance's 00:00, 08:00 and 16:00 UTC at 8 hours).
A dated contract is priced from its pair's index and pays no funding: its rate stays 0.

It keeps no clock: callers step it with the time, the live agent with the wall clock, the
simulation with its own.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from exchange_mock.collateral import CollateralTable
from exchange_mock.domain.commands import (
    Command,
    SettleFunding,
    UpdateCollateralPrice,
    UpdateMarkPrice,
)
from exchange_mock.errors import ConfigError
from exchange_mock.market.pricing import MarkModel, collateral_index_price, index_price
from exchange_mock.market.venues import VenueSet, VenueTable
from exchange_mock.risk import PRICE_SCALE, RATE_SCALE
from exchange_mock.symbols import SymbolSpec, SymbolTable
from exchange_mock.types import Millis, Ticks

COLLATERAL_STEP = 1e-4
"""A collateral price is sent again only once it has moved this much (relative): each update
revalues every holder, so a stablecoin's sub-basis-point wiggles are not worth sending."""


class OracleMode(StrEnum):
    SPOT = "spot"
    INDEX = "index"


@dataclass(frozen=True, slots=True)
class OwnBook:
    """The exchange's own book for a symbol, as the oracle reads it."""

    bid: Ticks | None
    ask: Ticks | None
    last: Ticks | None


def to_ticks(spec: SymbolSpec, price: float) -> Ticks:
    return max(1, round(price / float(spec.tick_size)))


class Oracle:
    def __init__(
        self,
        symbols: SymbolTable,
        venues: VenueTable,
        collateral: CollateralTable,
        rng: random.Random,
        now_ms: Millis,
        mode: OracleMode = OracleMode.INDEX,
        funding_interval_ms: int | None = None,
    ) -> None:
        """`funding_interval_ms` replaces the venues table's interval (a run compressing time
        settles funding more often)."""
        self._symbols = symbols
        self._rules = venues.oracle
        self._collateral = collateral
        self.venues: dict[str, VenueSet] = {}
        for index in venues.indexes:
            spec = symbols.get(index.name)
            reference = index.reference_price or (spec.reference_price if spec else None)
            if reference is None:
                raise ConfigError(f"index {index.name} needs a reference price")
            self.venues[index.name] = VenueSet(index, float(reference), rng, now_ms)
        for spec in symbols.symbols:
            if spec.pair not in self.venues:
                raise ConfigError(f"{spec.symbol} has no venues to price it")
        for asset in collateral.assets:
            if asset.index not in self.venues:
                raise ConfigError(f"{asset.asset} has no venues to price it ({asset.index})")
        self._models = {
            spec.symbol: MarkModel(self._rules, funding_interval_ms) for spec in symbols.symbols
        }
        self.modes: dict[str, OracleMode] = dict.fromkeys(
            [spec.symbol for spec in symbols.symbols] + [a.asset for a in collateral.assets], mode
        )
        """Per symbol and per collateral asset."""
        self.indexes: dict[str, float] = {name: v.common for name, v in self.venues.items()}
        """The last index computed per venue set (the common value before the first)."""
        self.marks: dict[str, float] = {}
        self.collateral_prices: dict[str, int] = {}
        """The last price sent per asset (1e-8 USDT per unit)."""

    def set_mode(self, mode: OracleMode, name: str | None = None) -> None:
        """Switch one symbol's or asset's mode, or (no name) every one's."""
        if name is None:
            self.modes = dict.fromkeys(self.modes, mode)
        elif name in self.modes:
            self.modes[name] = mode
        else:
            raise ConfigError(f"no symbol or collateral asset {name!r}")

    def step(self, now_ms: Millis) -> None:
        for venues in self.venues.values():
            venues.step(now_ms)

    def observe(self, now_ms: Millis, books: Mapping[str, OwnBook]) -> list[Command]:
        """The marks of every symbol (each followed by its funding when an interval ended) and
        the prices of the collateral assets that moved."""
        commands: list[Command] = []
        for spec in self._symbols.symbols:
            commands += self._mark(spec, now_ms, books.get(spec.symbol))
        for asset in self._collateral.assets:
            index = self._index(asset.index, now_ms)
            if self.modes[asset.asset] is OracleMode.SPOT:
                price = self.venues[asset.index].own_price() or index
            else:
                price = collateral_index_price(
                    index, float(asset.floor), float(asset.redemption_rate)
                )
            scaled = max(0, round(price * PRICE_SCALE))
            sent = self.collateral_prices.get(asset.asset)
            if sent is None or abs(scaled - sent) > sent * COLLATERAL_STEP:
                self.collateral_prices[asset.asset] = scaled
                commands.append(UpdateCollateralPrice(asset.asset, scaled, now_ms))
        return commands

    def _index(self, name: str, now_ms: Millis) -> float:
        venues = self.venues[name]
        cap = float(venues.spec.deviation_cap)
        price = index_price(venues.quotes(), now_ms, cap, self._rules.stale_after_ms)
        if price is not None:
            self.indexes[name] = price
        return self.indexes[name]

    def _mark(self, spec: SymbolSpec, now_ms: Millis, book: OwnBook | None) -> list[Command]:
        symbol = spec.symbol
        index = self._index(spec.pair, now_ms)
        tick = float(spec.tick_size)
        mid = last = None
        if book is not None:
            if book.bid is not None and book.ask is not None:
                mid = (book.bid + book.ask) / 2 * tick
            last = None if book.last is None else book.last * tick
        model = self._models[symbol]
        ended = model.observe(now_ms, index, mid if mid is not None else last)
        if self.modes[symbol] is OracleMode.SPOT:
            mark = mid if mid is not None else last if last is not None else index
        else:
            mark = model.mark(now_ms, index, last)
        self.marks[symbol] = mark
        dated = spec.delivery_date is not None
        funding = 0 if dated else round(model.funding * RATE_SCALE)
        commands: list[Command] = [
            UpdateMarkPrice(symbol, to_ticks(spec, mark), now_ms, to_ticks(spec, index), funding)
        ]
        if ended is not None and not dated:
            funding_time, rate = ended
            commands.append(SettleFunding(symbol, round(rate * RATE_SCALE), funding_time, now_ms))
        return commands
