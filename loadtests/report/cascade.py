"""The cascade timeline's series, from the run's market samples (`timeline.jsonl`).

Prices are drawn as their move from the first sample, in percent: BTC and ETH then share one
axis, and a -8% shock reads as -8 whatever the price. Liquidations are sampled as running
totals, so a second the sampler missed loses nothing; drawn, they are per second between one
sample and the next, true (the exchange's count) beside what the public feed pushed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from typing import NamedTuple

from loadtests.results import MarketSample


class PriceKind(StrEnum):
    LAST = "last"
    MARK = "mark"
    INDEX = "index"


_PRICE_OF: dict[PriceKind, Callable[[MarketSample], Decimal | None]] = {
    PriceKind.LAST: lambda sample: sample.price,
    PriceKind.MARK: lambda sample: sample.mark,
    PriceKind.INDEX: lambda sample: sample.index,
}


class PriceMove(NamedTuple):
    """One price of one symbol over the run."""

    times: list[float]
    """Run seconds."""
    moves: list[float | None]
    """Percent from the first sample that had this price; None where a sample had none."""
    prices: list[str | None]
    """The prices themselves, as the target published them."""


class LiquidationRates(NamedTuple):
    """One symbol's liquidations per second over the run."""

    times: list[float]
    """Run seconds at the end of each interval between two samples."""
    true: list[float | None]
    """None where either sample lacks the truth counter."""
    feed: list[float]


def by_symbol(samples: Sequence[MarketSample]) -> dict[str, list[MarketSample]]:
    """Each symbol's samples, oldest first; symbols in the order first seen."""
    found: dict[str, list[MarketSample]] = {}
    for sample in samples:
        found.setdefault(sample.symbol, []).append(sample)
    return found


def price_moves(samples: Sequence[MarketSample]) -> dict[tuple[str, PriceKind], PriceMove]:
    """Every symbol's last, mark and index price as a move from its first sample; a price the
    run never sampled is left out."""
    moves = {}
    for symbol, mine in by_symbol(samples).items():
        for kind, price_of in _PRICE_OF.items():
            prices = [price_of(sample) for sample in mine]
            first = next((price for price in prices if price is not None), None)
            if first is None:
                continue
            moves[symbol, kind] = PriceMove(
                times=[sample.at for sample in mine],
                moves=[
                    None if price is None else float(100 * (price / first - 1)) for price in prices
                ],
                prices=[None if price is None else str(price) for price in prices],
            )
    return moves


def liquidation_rates(samples: Sequence[MarketSample]) -> dict[str, LiquidationRates]:
    """Every symbol's liquidations per second, true and shown by the feed, between each pair of
    consecutive samples."""
    rates = {}
    for symbol, mine in by_symbol(samples).items():
        pairs = [(a, b) for a, b in pairwise(mine) if b.at > a.at]
        rates[symbol] = LiquidationRates(
            times=[b.at for _, b in pairs],
            true=[
                None
                if a.liquidations is None or b.liquidations is None
                else (b.liquidations - a.liquidations) / (b.at - a.at)
                for a, b in pairs
            ],
            feed=[(b.feed_liquidations - a.feed_liquidations) / (b.at - a.at) for a, b in pairs],
        )
    return rates
