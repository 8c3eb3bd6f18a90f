"""Margin arithmetic shared by the engine (which checks and liquidates) and the API (which shows
the figures it checks against): the brackets' leverage and notional caps, initial and
maintenance margin, collateral at its haircut, and the prices at which an account's margin runs
out. Shared because the two must agree to the cash unit and the tick, and the API may not
import the engine.

Cross margin, one-way mode. For one position of `lots` (signed) with entry `cost` (signed cash,
so entry price = cost / lots), the rest of the account contributes a `cushion`: its wallet (cash
plus collateral at its haircut value) plus the other positions' unrealized PnL, minus their
maintenance margin. At a price P (ticks) the account's equity is cushion − cost + P·lots·unit
(+ the others' margin, which the cushion already took off), so it is liquidatable when

    cushion − cost + P·lots·unit  ≤  MM(|P·lots·unit|)

(margin ratio at or above 100%). That is Binance's one-way formula
LP = (WB − TMM1 + UPNL1 + cum − s·Q·EP) / (Q·MMR − s·Q), with the bracket the one the
liquidation notional falls in. The engine needs it exactly in integer ticks (it indexes every
position by it); the API shows the exact rational value.

The same boundary at a lower margin ratio r (maintenance margin ÷ equity ≥ r) is where a margin
call is due: the engine indexes positions by that price too. Since the maintenance margin can no
longer be moved to the other side whole, the other positions' margin is then passed on its own.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from fractions import Fraction

from exchange_mock.symbols import SymbolSpec, to_cash
from exchange_mock.types import PPM, Cash, Lots, Ticks

PRICE_SCALE = 10**8
"""A collateral price is an integer count of 1e-8 USDT per whole unit of the asset."""
RATE_SCALE = 10**8
"""A funding rate is an integer count of 1e-8 (so 0.01% is 10_000)."""


def collateral_value(amount: int, price: int, haircut_ppm: int) -> Cash:
    """What `amount` (1e-8 units) of a collateral asset counts for as margin: price less the
    haircut, rounded down."""
    return amount * price * (PPM - haircut_ppm) // (PRICE_SCALE * PPM)


def collateral_units(cash: Cash, price: int, haircut_ppm: int) -> int:
    """The most of a collateral asset (1e-8 units) whose `collateral_value` is within `cash`:
    what a margin surplus of `cash` lets go of it (none at a zero price)."""
    per_unit = price * (PPM - haircut_ppm)
    if per_unit <= 0 or cash < 0:
        return 0
    return ((cash + 1) * PRICE_SCALE * PPM - 1) // per_unit


class Tiers:
    """A symbol's brackets as integer tables: cap (cash), MMR (ppm), cum (cash), so the
    maintenance margin of a notional is one bisection and two integer operations."""

    __slots__ = ("caps", "cums", "last", "mmrs")

    def __init__(self, spec: SymbolSpec) -> None:
        self.caps = [to_cash(tier.notional_cap) for tier in spec.brackets]
        self.mmrs = [tier.mmr_ppm for tier in spec.brackets]
        self.cums = [to_cash(tier.cum) for tier in spec.brackets]
        self.last = len(self.caps) - 1

    def tier(self, size: Cash) -> int:
        """The bracket a notional of `size` (≥ 0) falls in; the last one beyond the table."""
        return min(bisect_left(self.caps, size), self.last)

    def maintenance(self, size: Cash) -> Cash:
        """notional × MMR − cum, for a notional of `size` (≥ 0)."""
        tier = min(bisect_left(self.caps, size), self.last)
        return size * self.mmrs[tier] // PPM - self.cums[tier]


def max_leverage(spec: SymbolSpec) -> int:
    """The symbol's highest leverage: the first bracket's."""
    return spec.brackets[0].max_leverage


def default_leverage(spec: SymbolSpec, configured: int) -> int:
    """An account's leverage in the symbol until it sets one: the configured default, capped
    at the symbol's highest."""
    return min(configured, max_leverage(spec))


def max_notional(spec: SymbolSpec, leverage: int) -> Cash:
    """The largest position notional allowed at `leverage`: the biggest cap among the brackets
    that still allow that leverage (0 above the symbol's maximum)."""
    return max(
        (to_cash(tier.notional_cap) for tier in spec.brackets if tier.max_leverage >= leverage),
        default=0,
    )


def maintenance_margin(spec: SymbolSpec, notional: Cash) -> Cash:
    """notional × MMR − cum of the bracket the notional falls in (the engine keeps a market's
    `Tiers` instead of rebuilding them per call)."""
    return Tiers(spec).maintenance(abs(notional))


def initial_margin(notional: Cash, leverage: int) -> Cash:
    return abs(notional) // leverage


def at_margin_ratio(
    tiers: Tiers,
    lots: Lots,
    cost: Cash,
    unit: int,
    cushion: Cash,
    price: Ticks,
    ratio_ppm: int,
    others_mm: Cash = 0,
) -> bool:
    """Whether the account's margin ratio is at or above `ratio_ppm` with this position's mark
    at `price`: equity × r ≤ (others' maintenance margin + this one's), in integers."""
    notional = price * lots * unit
    equity = cushion - cost + notional
    return equity * ratio_ppm <= (others_mm + tiers.maintenance(abs(notional))) * PPM


def margin_ratio_ticks(
    tiers: Tiers,
    lots: Lots,
    cost: Cash,
    unit: int,
    cushion: Cash,
    ratio_ppm: int,
    others_mm: Cash = 0,
) -> Ticks:
    """The price in whole ticks where the margin ratio reaches `ratio_ppm`, exact against
    `at_margin_ratio`: for a long, the highest price at which it is reached (0 when no positive
    price reaches it); for a short, the lowest (at least 1). The ratio must exceed every
    bracket's MMR, so that a long's equity grows faster than its margin and the boundary is
    one price.

    The linear solution for the bracket the boundary's notional lands in is found first; the
    maintenance margin's rounding can move the boundary by a tick, which a short search fixes.
    """
    per_tick = abs(lots) * unit
    base = cushion - cost
    tier = tiers.tier(abs(cost))
    guess = 0
    for _ in range(tiers.last + 1):
        mmr, cum = tiers.mmrs[tier], tiers.cums[tier]
        floor = (others_mm - cum) * PPM
        if lots > 0:
            guess = (floor - base * ratio_ppm) // (per_tick * (ratio_ppm - mmr))
        else:
            guess = -((floor - base * ratio_ppm) // (per_tick * (ratio_ppm + mmr)))
        landed = tiers.tier(max(guess, 0) * per_tick)
        if landed == tier:
            break
        tier = landed

    def test(price: Ticks) -> bool:
        return at_margin_ratio(tiers, lots, cost, unit, cushion, price, ratio_ppm, others_mm)

    return _highest(test, guess) if lots > 0 else _lowest(test, guess)


def liquidatable(
    tiers: Tiers, lots: Lots, cost: Cash, unit: int, cushion: Cash, price: Ticks
) -> bool:
    """Whether the account is at or past liquidation with this position's mark at `price`."""
    return at_margin_ratio(tiers, lots, cost, unit, cushion, price, PPM)


def liquidation_ticks(tiers: Tiers, lots: Lots, cost: Cash, unit: int, cushion: Cash) -> Ticks:
    """The liquidation price in whole ticks: a long is liquidated exactly when mark ≤ LP, a
    short when mark ≥ LP (`margin_ratio_ticks` at 100%)."""
    return margin_ratio_ticks(tiers, lots, cost, unit, cushion, PPM)


def _highest(test: Callable[[Ticks], bool], guess: Ticks) -> Ticks:
    """The highest price ≥ 0 passing `test`, which passes below some bound and fails above it
    (0 when nothing positive passes)."""
    price = max(guess, 0)
    step = 1
    if test(price):
        low = price
        while test(low + step):
            low += step
            step *= 2
        high = low + step
    else:
        high = price
        while True:
            if high - step <= 0:
                low = 0
                break
            if test(high - step):
                low = high - step
                break
            high -= step
            step *= 2
    while high - low > 1:
        middle = (low + high) // 2
        if test(middle):
            low = middle
        else:
            high = middle
    return low


def _lowest(test: Callable[[Ticks], bool], guess: Ticks) -> Ticks:
    """The lowest price ≥ 1 passing `test`, which fails below some bound and passes above: one
    above the highest price failing it."""
    return _highest(lambda price: not test(price), guess - 1) + 1


def liquidation_price(
    tiers: Tiers, lots: Lots, cost: Cash, unit: int, cushion: Cash
) -> Fraction | None:
    """Binance's liquidation price, exactly, in ticks (multiply by the tick size for a price);
    None when no positive price liquidates the position. The bracket is the one the
    liquidation notional falls in, which may differ from the entry's."""
    sign = 1 if lots > 0 else -1
    per_tick = abs(lots) * unit
    tier = tiers.tier(abs(cost))
    numerator = denominator = 1
    for _ in range(tiers.last + 1):
        # price = numerator / denominator, in integers until the end (this runs per read).
        numerator = (cushion + tiers.cums[tier] - cost) * PPM
        denominator = per_tick * (tiers.mmrs[tier] - sign * PPM)
        landed = tiers.tier(max(0, numerator * per_tick // denominator))
        if landed == tier:
            break
        tier = landed
    if numerator == 0 or (numerator > 0) != (denominator > 0):
        return None
    return Fraction(numerator, denominator)


def bankruptcy_ticks(lots: Lots, cost: Cash, unit: int, cushion: Cash) -> Ticks:
    """The price at which the account's equity is zero, `cushion` here being the wallet plus
    the other positions' unrealized PnL (no margin): rounded so that closing at it leaves the
    equity at or above zero (up for a long's sell, down for a short's buy); at least a tick."""
    shortfall = cost - cushion
    per_tick = lots * unit
    price = -(-shortfall // per_tick) if lots > 0 else shortfall // per_tick
    return max(price, 1)
