"""A reference ("fair") price per symbol that wanders as a seeded geometric random walk: what
the market makers quote around and, until the index arrives, what the mark follows."""

from __future__ import annotations

import math
import random

from exchange_mock.symbols import SymbolSpec
from exchange_mock.types import Ticks


class ReferencePrice:
    def __init__(self, spec: SymbolSpec, volatility_bps: int, rng: random.Random) -> None:
        self._spec = spec
        self._sigma = volatility_bps / 10_000
        self._rng = rng
        self.value = float(spec.reference_price)
        """A float is fine here: this is a simulated fair value, never money; quotes are rounded
        to whole ticks before they reach the engine."""

    def step(self) -> Ticks:
        self.value *= math.exp(self._rng.gauss(0.0, self._sigma))
        return self.ticks()

    def ticks(self) -> Ticks:
        return max(1, round(self.value / float(self._spec.tick_size)))
