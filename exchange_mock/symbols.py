"""Contract specifications, loaded from YAML, and the conversions between wire decimals and the
engine's integers (ticks, lots, cash).

The wire speaks decimal strings; the engine speaks integers. Converting here, once, at the edge,
means Binance's notation never leaks inward and float never touches money.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, model_validator

from exchange_mock.delivery import ContractType, dated_symbol, listing_date, quarterly_delivery
from exchange_mock.errors import ConfigError
from exchange_mock.tables import ShippedTable
from exchange_mock.types import CASH_SCALE, PPM, Cash, Lots, Millis, Ticks

Deliveries = Mapping[ContractType, Millis]
"""The delivery date of each quarterly contract type the exchange lists."""


def to_ppm(rate: Decimal) -> int:
    """A rate (0.0005) as integer parts per million (500); refuses finer rates."""
    scaled = rate * PPM
    if scaled != scaled.to_integral_value():
        raise ConfigError(f"rate {rate} is finer than one part per million")
    return int(scaled)


class Bracket(BaseModel):
    """One tier of the leverage/maintenance-margin table, with its derived floor and `cum`."""

    model_config = ConfigDict(frozen=True)

    bracket: int = 0
    notional_floor: Decimal = Decimal(0)
    notional_cap: Decimal
    max_leverage: int
    mmr: Decimal
    cum: Decimal = Decimal(0)

    @cached_property
    def mmr_ppm(self) -> int:
        return to_ppm(self.mmr)


class SymbolSpec(BaseModel):
    """One contract, perpetual or dated: its filters, fees and margin tiers, as Binance
    publishes them."""

    model_config = ConfigDict(frozen=True)

    symbol: str
    pair: str = ""
    """The underlying pair; a perpetual's is its own name (set when left empty)."""
    contract_type: ContractType = ContractType.PERPETUAL
    delivery_date: Millis | None = None
    """When a dated contract delivers; None for a perpetual."""
    base_asset: str
    quote_asset: str
    onboard_date: int
    price_precision: int
    quantity_precision: int
    tick_size: Decimal
    min_price: Decimal
    max_price: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal
    max_num_orders: int
    multiplier_up: Decimal
    multiplier_down: Decimal
    maker_fee: Decimal
    taker_fee: Decimal
    liquidation_fee: Decimal
    market_take_bound: Decimal
    reference_price: Decimal
    brackets: tuple[Bracket, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _derive_brackets(self) -> SymbolSpec:
        derived: list[Bracket] = []
        floor, prev_mmr, cum = Decimal(0), Decimal(0), Decimal(0)
        for number, tier in enumerate(self.brackets, start=1):
            cum = floor * (tier.mmr - prev_mmr) + cum
            derived.append(
                tier.model_copy(update={"bracket": number, "notional_floor": floor, "cum": cum})
            )
            floor, prev_mmr = tier.notional_cap, tier.mmr
        object.__setattr__(self, "brackets", tuple(derived))
        if not self.pair:
            object.__setattr__(self, "pair", self.symbol)
        if (self.delivery_date is None) != (self.contract_type is ContractType.PERPETUAL):
            raise ConfigError(f"{self.symbol}: a delivery date is for dated contracts only")
        if (self.tick_size * self.step_size * CASH_SCALE) % 1:
            raise ConfigError(f"{self.symbol}: tick × step is finer than the cash unit")
        return self

    @property
    def funds(self) -> bool:
        """Whether the contract pays funding: perpetuals do, dated contracts deliver instead."""
        return self.delivery_date is None

    def delivered(self, now: Millis) -> bool:
        """Whether a dated contract has reached its delivery: from then on it takes no orders."""
        return self.delivery_date is not None and now >= self.delivery_date

    def dated(self, contract_type: ContractType, delivery: Millis) -> SymbolSpec:
        """This perpetual's quarterly delivering at `delivery`, with its filters, fees and
        brackets."""
        return self.model_copy(
            update={
                "symbol": dated_symbol(self.symbol, delivery),
                "pair": self.symbol,
                "contract_type": contract_type,
                "delivery_date": delivery,
                "onboard_date": listing_date(delivery),
            }
        )

    # -- conversions between the wire's decimals and the engine's integers --------------------

    @cached_property
    def cash_per_tick_lot(self) -> int:
        """Cash units in one tick of price times one lot of size: notional = ticks × lots × this."""
        return int(self.tick_size * self.step_size * CASH_SCALE)

    @cached_property
    def maker_fee_ppm(self) -> int:
        return to_ppm(self.maker_fee)

    @cached_property
    def taker_fee_ppm(self) -> int:
        return to_ppm(self.taker_fee)

    def ticks(self, price: Decimal) -> Ticks | None:
        """The price in ticks, or None when it is not a whole number of ticks."""
        count = price / self.tick_size
        return int(count) if count == count.to_integral_value() else None

    def lots(self, qty: Decimal) -> Lots | None:
        """The size in lots, or None when it is not a whole number of steps."""
        count = qty / self.step_size
        return int(count) if count == count.to_integral_value() else None

    def price(self, ticks: Ticks) -> Decimal:
        return (ticks * self.tick_size).quantize(self.tick_size)

    def qty(self, lots: Lots) -> Decimal:
        return (lots * self.step_size).quantize(self.step_size)

    def notional(self, ticks: Ticks, lots: Lots) -> Cash:
        return ticks * lots * self.cash_per_tick_lot

    def price_str(self, ticks: Ticks) -> str:
        return str(self.price(ticks))

    def qty_str(self, lots: Lots) -> str:
        return str(self.qty(lots))

    def bracket_for(self, notional: Decimal) -> Bracket:
        """The tier whose range holds this notional (the last tier beyond the table)."""
        for tier in self.brackets:
            if notional <= tier.notional_cap:
                return tier
        return self.brackets[-1]


def to_cash(amount: Decimal) -> Cash:
    return int((amount * CASH_SCALE).to_integral_value())


class QuarterlySeries(BaseModel):
    """A perpetual's dated siblings: which quarterly contract types are listed on its pair."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pair: str
    contract_types: tuple[ContractType, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _dated_only(self) -> QuarterlySeries:
        if ContractType.PERPETUAL in self.contract_types:
            raise ConfigError(f"{self.pair}: a quarterly series lists dated contracts only")
        return self


class SymbolTable(ShippedTable):
    """Every listed contract, by name.

    As shipped, the table holds the perpetuals and the quarterly series to date; `listed`
    dates them, once the exchange knows its delivery calendar (`store/listing.py`)."""

    shipped = "symbols.yaml"

    symbols: tuple[SymbolSpec, ...] = Field(min_length=1)
    quarterlies: tuple[QuarterlySeries, ...] = ()

    @model_validator(mode="after")
    def _series_on_perpetuals(self) -> SymbolTable:
        perpetuals = {s.symbol for s in self.symbols if s.contract_type is ContractType.PERPETUAL}
        for series in self.quarterlies:
            if series.pair not in perpetuals:
                raise ConfigError(f"quarterly series on {series.pair}: no such perpetual")
        return self

    @property
    def perpetuals(self) -> tuple[SymbolSpec, ...]:
        return tuple(s for s in self.symbols if s.contract_type is ContractType.PERPETUAL)

    def deliveries(self, now: Millis) -> dict[ContractType, Millis]:
        """The delivery date of every contract type the series list, as the calendar stands
        at `now`."""
        types = {kind for series in self.quarterlies for kind in series.contract_types}
        return {kind: quarterly_delivery(now, kind) for kind in sorted(types)}

    def listed(self, deliveries: Deliveries) -> SymbolTable:
        """Every contract the exchange trades: the perpetuals, then the dated contracts of each
        series delivering on `deliveries`."""
        dated = tuple(
            self.by_name[series.pair].dated(kind, deliveries[kind])
            for series in self.quarterlies
            for kind in series.contract_types
        )
        return SymbolTable(symbols=(*self.symbols, *dated))

    @cached_property
    def by_name(self) -> dict[str, SymbolSpec]:
        return {spec.symbol: spec for spec in self.symbols}

    def get(self, name: str) -> SymbolSpec | None:
        return self.by_name.get(name)
