"""One contract as the engine sees it: its rules as integers, its book, and its prices. (The
market around the exchange, venues and makers, is the `market` package.)

The contract's Decimal rules are converted once here, so the hot path only multiplies and
compares integers.
"""

from __future__ import annotations

from exchange_mock.engine.book import Book
from exchange_mock.risk import Tiers, default_leverage, max_leverage, max_notional
from exchange_mock.symbols import SymbolSpec, to_cash, to_ppm
from exchange_mock.types import Cash, Millis, Ticks


class Contract:
    __slots__ = (
        "book",
        "default_leverage",
        "default_max_notional",
        "down_ppm",
        "funded_until",
        "last_price",
        "liquidation_fee_ppm",
        "maker_fee_ppm",
        "mark",
        "mark_time",
        "max_leverage",
        "max_num_orders",
        "min_notional",
        "spec",
        "symbol",
        "taker_fee_ppm",
        "tiers",
        "unit",
        "up_ppm",
    )

    def __init__(self, spec: SymbolSpec, leverage: int) -> None:
        """`leverage`: the configured default, which the symbol's maximum caps."""
        self.spec = spec
        self.symbol = spec.symbol
        self.unit = spec.cash_per_tick_lot  # notional = ticks × lots × unit
        self.maker_fee_ppm = spec.maker_fee_ppm
        self.taker_fee_ppm = spec.taker_fee_ppm
        self.liquidation_fee_ppm = to_ppm(spec.liquidation_fee)
        self.tiers = Tiers(spec)
        self.up_ppm = to_ppm(spec.multiplier_up)
        self.down_ppm = to_ppm(spec.multiplier_down)
        self.min_notional: Cash = to_cash(spec.min_notional)
        self.max_num_orders = spec.max_num_orders
        self.max_leverage = max_leverage(spec)
        self.default_leverage = default_leverage(spec, leverage)
        self.default_max_notional = max_notional(spec, self.default_leverage)
        self.book = Book()
        self.mark: Ticks | None = None
        self.mark_time: Millis | None = None
        self.last_price: Ticks | None = None
        self.funded_until: Millis = 0
        """The end of the last funding interval settled."""

    def mark_price(self) -> Ticks | None:
        """The mark, or the last trade price until the first mark arrives."""
        return self.mark if self.mark is not None else self.last_price
