"""Collateral in the engine: each accepted asset's latest price and the haircut that turns
holdings into margin (the table of assets is `exchange_mock.collateral`).

Amounts are integers in 1 / CASH_SCALE of the asset and prices integers in 1 / PRICE_SCALE
USDT per whole unit, so a holding's value is exact integer arithmetic like everything else in
the engine. Collateral is never converted silently: it moves between an account and the
insurance fund only by journaled events, so each asset is conserved on its own.
"""

from __future__ import annotations

from exchange_mock.collateral import CollateralSpec, to_price
from exchange_mock.risk import PRICE_SCALE
from exchange_mock.symbols import to_ppm
from exchange_mock.types import PPM, Cash


class CollateralAsset:
    """One accepted asset as the engine values it: the price it was last sent, less the
    haircut. Holdings refer to this object, so a price update revalues them all at once."""

    __slots__ = ("_numerator", "asset", "haircut_ppm", "price")

    def __init__(self, spec: CollateralSpec) -> None:
        self.asset = spec.asset
        self.haircut_ppm = to_ppm(spec.haircut)
        self.price = to_price(spec.redemption_rate)
        self._numerator = self.price * (PPM - self.haircut_ppm)

    def reprice(self, price: int) -> None:
        self.price = price
        self._numerator = price * (PPM - self.haircut_ppm)

    def value(self, amount: int) -> Cash:
        """What `amount` counts for as margin, rounded down (`risk.collateral_value`, with the
        price and haircut multiplied once per price rather than per holding)."""
        return amount * self._numerator // (PRICE_SCALE * PPM)

    def units_for(self, cash: Cash) -> int:
        """The fewest units whose value covers `cash` (when the price is positive)."""
        if self._numerator <= 0:
            return 0
        return -(-cash * PRICE_SCALE * PPM // self._numerator)


class Holding:
    """An account's (or the insurance fund's) amount of one collateral asset."""

    __slots__ = ("amount", "asset")

    def __init__(self, asset: CollateralAsset) -> None:
        self.asset = asset
        self.amount = 0

    @property
    def value(self) -> Cash:
        return self.asset.value(self.amount)
