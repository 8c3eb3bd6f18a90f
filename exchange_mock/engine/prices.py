"""New prices from the oracle: a symbol's mark, a collateral asset's price. Each is journaled,
then checked against every position it revalues (`checks`): a new price is when accounts are
liquidated and margin-called."""

from __future__ import annotations

from exchange_mock.domain.commands import UpdateCollateralPrice, UpdateMarkPrice
from exchange_mock.domain.events import CollateralPriceUpdated, Event, MarkPriceUpdated
from exchange_mock.domain.replies import Done
from exchange_mock.engine import adl
from exchange_mock.engine.checks import RiskChecks
from exchange_mock.engine.refusals import BAD_ASSET, BAD_PRICE, INVALID_SYMBOL, Outcome
from exchange_mock.engine.state import State


class Prices:
    def __init__(self, state: State, checks: RiskChecks, adl_refresh_ms: int) -> None:
        self._state = state
        self._checks = checks
        self._adl_refresh_ms = adl_refresh_ms

    def update_mark(self, command: UpdateMarkPrice) -> Outcome:
        contract = self._state.contracts.get(command.symbol)
        if contract is None:
            return [], INVALID_SYMBOL
        if command.price <= 0:
            return [], BAD_PRICE
        refresh_adl = adl.due(contract.mark_time, command.ts, self._adl_refresh_ms)
        contract.mark, contract.mark_time = command.price, command.ts
        events: list[Event] = [
            MarkPriceUpdated(
                command.symbol, command.price, command.ts, command.index, command.funding_rate
            )
        ]
        self._state.watch.mark_moved(command.symbol)
        events += self._checks.at_mark(command.symbol, command.ts)
        if refresh_adl:
            events += self._checks.adl_quantiles(command.symbol, command.ts)
        return events, Done()

    def update_collateral_price(self, command: UpdateCollateralPrice) -> Outcome:
        asset = self._state.assets.get(command.asset)
        if asset is None:
            return [], BAD_ASSET
        if command.price < 0:
            return [], BAD_PRICE
        asset.reprice(command.price)
        events: list[Event] = [
            CollateralPriceUpdated(asset.asset, command.price, asset.haircut_ppm, command.ts)
        ]
        events += self._checks.at_collateral_price(asset.asset, command.ts)
        return events, Done()
