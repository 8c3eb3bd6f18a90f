"""The collateral table (YAML): the assets accepted as margin besides USDT, with their haircut,
redemption rate and floor, and what genesis gives the insurance fund and the accounts. Shared
by the engine (which values holdings), the market (which prices the assets) and the API (which
names them), so it lives outside all three, like the symbol table.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from exchange_mock.risk import PRICE_SCALE
from exchange_mock.tables import ShippedTable


def to_price(price: Decimal) -> int:
    return int((price * PRICE_SCALE).to_integral_value())


class CollateralSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    asset: str
    index: str
    """The venue set (venues.yaml) that prices the asset."""
    haircut: Decimal = Field(ge=0, lt=1)
    redemption_rate: Decimal = Field(gt=0)
    """What one unit redeems for: the index-mode price never exceeds it."""
    floor: Decimal = Field(gt=0)
    """The index-mode price never goes below it."""


class Genesis(BaseModel):
    model_config = ConfigDict(frozen=True)

    insurance_fund: Decimal = Field(ge=0)
    trader_collateral: dict[str, Decimal] = Field(default_factory=dict)
    shock_balance: Decimal = Field(gt=0)


class CollateralTable(ShippedTable):
    model_config = ConfigDict(frozen=True)
    shipped = "collateral.yaml"

    assets: tuple[CollateralSpec, ...] = ()
    listed: tuple[str, ...] = ()
    """Binance's margin assets the mock does not accept, listed at zero in every account."""
    genesis: Genesis

    def get(self, asset: str) -> CollateralSpec | None:
        return next((spec for spec in self.assets if spec.asset == asset), None)
