"""What a market maker quotes: around which price, how wide, how deep.

- Fair value: where the book last traded (or the previous fair value, when nothing traded since),
  pulled toward the index by `index_pull` per requote (the arbitrage that drags a venue back to
  the others). A dump or a wave of liquidation sales moves the makers' quotes down with it,
  for a while: the book remembers.
- Depth follows the square-root law of market impact: the notional resting within a distance
  d of fair grows as d², so a market order of notional Q moves the price by
  spread × sqrt(Q / inner notional). The ladder's sizes are that law, level by level.
- Volatility widens and thins: distances scale with realized volatility over the calm level
  (an EWMA of squared log moves of the fair value), up to `max_widen`, and levels pushed beyond
  `max_distance` are not quoted. With sizes fixed per level, the depth within any fixed
  distance falls as the square of that factor (at most 10x wider: 99% of the depth near the
  mid pulled; October 2025 saw 90% and more): makers pull depth as volatility rises, which is
  what turns a dump into a cascade.
- The operator's depth withdrawal scales every size down (100% quotes nothing).

Floats are fine here: these are quoting decisions; prices and sizes leave as whole ticks and
lots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from exchange_mock.settings import Settings
from exchange_mock.symbols import SymbolSpec
from exchange_mock.types import Lots, Side, Ticks

Quote = tuple[Side, Ticks, Lots]
"""(side, price, size) of one resting quote."""


@dataclass(frozen=True, slots=True)
class QuotePolicy:
    levels: int
    spread_bps: float
    """Distance of the inner quotes from fair, in calm markets."""
    step_bps: float
    """Distance between levels, in calm markets."""
    notional: float
    """USDT quoted at the inner level; deeper levels follow the square-root law."""
    calm_bps: float
    """Volatility per requote that makers consider calm (no widening)."""
    index_pull: float = 0.2
    """Share of the gap between mark and index the fair value closes per requote."""
    memory: float = 0.94
    """EWMA weight of the previous variance estimate, per requote."""
    max_widen: float = 10.0
    """The most volatility widens the ladder by."""
    max_distance: float = 0.10
    """No quote further than this from fair (October 2025: meaningful bids were 4-10% away)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> QuotePolicy:
        return cls(
            levels=settings.maker_levels,
            spread_bps=settings.maker_spread_bps,
            step_bps=settings.maker_step_bps,
            notional=float(settings.maker_notional),
            calm_bps=max(1.0, float(settings.maker_volatility_bps)),
        )

    def for_contract(self, spec: SymbolSpec, dated_levels: int) -> QuotePolicy:
        """A dated contract's book is quoted thinner: at most `dated_levels` levels."""
        return self if spec.funds else replace(self, levels=min(self.levels, dated_levels))


class Quoter:
    """One symbol's quoting state shared by the makers: fair value and its volatility."""

    def __init__(self, spec: SymbolSpec, policy: QuotePolicy) -> None:
        self.spec = spec
        self.policy = policy
        self.fair: float | None = None
        self._last: float | None = None
        self._variance = (policy.calm_bps / 10_000) ** 2

    @property
    def volatility_bps(self) -> float:
        return math.sqrt(self._variance) * 10_000

    def update(self, last: float, index: float | None) -> float:
        """Take the book's last price (the mark before anything traded) and the index; return
        the new fair value."""
        anchor = last if last != self._last or self.fair is None else self.fair
        self._last = last
        fair = anchor if index is None else anchor + self.policy.index_pull * (index - anchor)
        if self.fair is not None and fair > 0 and self.fair > 0:
            move = math.log(fair / self.fair)
            memory = self.policy.memory
            self._variance = memory * self._variance + (1 - memory) * move * move
        self.fair = fair
        return fair

    def ladder(self, depth: float, offset: int) -> list[Quote]:
        """(side, price, lots) quotes for one maker; `offset` ticks stagger makers apart and
        `depth` (0..1) is what the operator left of the makers' depth."""
        policy, spec = self.policy, self.spec
        if self.fair is None or depth <= 0:
            return []
        widen = min(max(1.0, self.volatility_bps / policy.calm_bps), policy.max_widen)
        tick, lot = float(spec.tick_size), float(spec.step_size)
        fair = self.fair / tick
        quotes: list[Quote] = []
        below = 0.0
        for level in range(policy.levels):
            calm = policy.spread_bps + level * policy.step_bps
            within = policy.notional * depth * (calm / policy.spread_bps) ** 2
            size = within - below
            below = within
            distance = calm * widen / 10_000
            if distance > policy.max_distance:
                break
            bid = max(1, math.floor(fair * (1 - distance)) - offset)
            ask = math.ceil(fair * (1 + distance)) + offset
            for side, price in ((Side.BUY, bid), (Side.SELL, ask)):
                quotes.append((side, price, max(1, int(size / (price * tick * lot)))))
        return quotes
