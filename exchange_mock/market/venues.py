"""Simulated spot venues: the outside world the index is computed from.

Each index (BTCUSDT, ETHUSDT, USDEUSDT) has a common fair value that wanders as a seeded
geometric random walk, and a few venues quoting around it, each with its weight in the index,
a little noise of its own, and a depth. Shocks act on them the way they act on real venues: a
market order moves one venue by the square-root law and the dislocation decays as arbitrage
closes it; a percentage move shifts one venue (decaying likewise) or the common value (the
whole market, permanently); a silenced venue stops updating and, five minutes later, drops out
of the index.

Floats are fine here: these are simulated prices, never money; the oracle rounds what it sends
to whole ticks before it reaches the engine.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from exchange_mock.errors import ConfigError
from exchange_mock.tables import ShippedTable
from exchange_mock.types import Millis


class VenueSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    weight: Decimal = Field(ge=0)
    impact_notional: Decimal = Field(gt=0)
    """The market order (USDT) that moves this venue's price by 1%."""

    @property
    def whole_notional(self) -> Decimal:
        """The market order that would move this venue's price by all of it (1% × sqrt(n /
        impact_notional) = 100%): a shock must trade less."""
        return self.impact_notional * 10_000

    own: bool = False
    """The exchange's own book for the asset: what the spot oracle mode reads."""


class IndexSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    deviation_cap: Decimal = Field(gt=0, lt=1)
    volatility_bps: float = Field(ge=0)
    """Standard deviation of the common value's move per second."""
    noise_bps: float = Field(ge=0)
    """Standard deviation of a venue's own deviation from the common value."""
    recovery_half_life_s: float = Field(gt=0)
    reference_price: Decimal | None = None
    """Where the common value starts; a perpetual's index starts at the contract's."""
    venues: tuple[VenueSpec, ...] = Field(min_length=1)

    def default_venue(self) -> VenueSpec:
        """The exchange's own venue, or else the heaviest: where a shock naming none trades."""
        own = [venue for venue in self.venues if venue.own]
        return own[0] if own else max(self.venues, key=lambda venue: venue.weight)

    def venue(self, name: str | None) -> VenueSpec | None:
        """A venue by name; None names the default venue."""
        if name is None:
            return self.default_venue()
        return next((venue for venue in self.venues if venue.name == name), None)


class OracleRules(BaseModel):
    model_config = ConfigDict(frozen=True)

    stale_after_ms: int = Field(gt=0)
    premium_samples: int = Field(gt=0)
    sample_interval_ms: int = Field(gt=0)
    funding_interval_ms: int = Field(gt=0)
    interest_rate: Decimal
    funding_clamp: Decimal = Field(ge=0)
    funding_cap: Decimal = Field(gt=0)


class VenueTable(ShippedTable):
    model_config = ConfigDict(frozen=True)
    shipped = "venues.yaml"

    oracle: OracleRules
    indexes: tuple[IndexSpec, ...]

    def get(self, name: str) -> IndexSpec | None:
        return next((index for index in self.indexes if index.name == name), None)


@dataclass(frozen=True, slots=True)
class VenueQuote:
    """What the index reads from one venue."""

    price: float
    weight: float
    updated_ms: Millis


class Venue:
    __slots__ = (
        "dislocation",
        "impact_notional",
        "name",
        "noise",
        "own",
        "silent",
        "updated_ms",
        "weight",
    )

    def __init__(self, spec: VenueSpec, now_ms: Millis) -> None:
        self.name = spec.name
        self.weight = float(spec.weight)
        self.impact_notional = float(spec.impact_notional)
        self.own = spec.own
        self.dislocation = 0.0
        """Log distance from the common value left by shocks; decays."""
        self.noise = 0.0
        self.silent = False
        self.updated_ms = now_ms

    def price(self, common: float) -> float:
        return common * math.exp(self.dislocation + self.noise)


class VenueSet:
    """One index's venues around their common value."""

    def __init__(
        self, spec: IndexSpec, reference: float, rng: random.Random, now_ms: Millis
    ) -> None:
        self.spec = spec
        self.common = reference
        self._rng = rng
        self._sigma = spec.volatility_bps / 10_000
        self._noise = spec.noise_bps / 10_000
        self._half_life_ms = spec.recovery_half_life_s * 1000
        self._stepped_ms = now_ms
        self.venues = {venue.name: Venue(venue, now_ms) for venue in spec.venues}

    def step(self, now_ms: Millis) -> None:
        """Move time on: the common value walks, dislocations decay, live venues update."""
        elapsed = now_ms - self._stepped_ms
        if elapsed <= 0:
            return
        self._stepped_ms = now_ms
        rng = self._rng
        self.common *= math.exp(rng.gauss(0.0, self._sigma * math.sqrt(elapsed / 1000)))
        decay = 0.5 ** (elapsed / self._half_life_ms)
        for venue in self.venues.values():
            venue.dislocation *= decay
            venue.noise = rng.gauss(0.0, self._noise)
            if not venue.silent:
                venue.updated_ms = now_ms

    def quotes(self) -> list[VenueQuote]:
        return [
            VenueQuote(venue.price(self.common), venue.weight, venue.updated_ms)
            for venue in self.venues.values()
        ]

    def venue(self, name: str | None) -> Venue:
        """A venue by name; None names the exchange's own (or else the heaviest) venue."""
        spec = self.spec.venue(name)
        if spec is None:
            raise ConfigError(f"{self.spec.name} has no venue {name!r}")
        return self.venues[spec.name]

    def own_price(self) -> float | None:
        own = [venue for venue in self.venues.values() if venue.own]
        return own[0].price(self.common) if own else None

    def trade(self, notional: float, name: str | None = None) -> float:
        """A market order of `notional` USDT (negative: a sale) on one venue: it moves that
        venue by 1% × sqrt(|notional| / impact_notional). Returns the move, as a fraction."""
        venue = self.venue(name)
        move = 0.01 * math.sqrt(abs(notional) / venue.impact_notional)
        if not move < 1:  # NaN too
            raise ConfigError(f"{notional} USDT would move {venue.name} by all of its price")
        venue.dislocation += math.log1p(-move) if notional < 0 else math.log1p(move)
        return -move if notional < 0 else move

    def move(self, pct: float, name: str | None = None, *, everywhere: bool = False) -> None:
        """Move one venue's price by `pct` percent (decaying back), or with `everywhere` the
        common value (the whole market, for good)."""
        factor = math.log1p(pct / 100)
        if everywhere:
            self.common *= math.exp(factor)
        else:
            self.venue(name).dislocation += factor

    def silence(self, name: str, silent: bool = True) -> None:
        """Stop (or resume) a venue's updates: after `stale_after_ms` it drops out."""
        self.venue(name).silent = silent
