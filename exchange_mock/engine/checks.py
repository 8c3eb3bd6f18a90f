"""What a change in value sets off, in this order: liquidation of the accounts it put at or past
their maintenance margin (most underwater first), then margin calls for the accounts it put
past the margin-call level (and lifting those back under it). And, every 30 s of marks, the
ADL quantiles.

Marks, collateral prices and funding change what positions are worth; each ends its command
with these checks, so their events follow in the same command.
"""

from __future__ import annotations

from exchange_mock.domain.events import Event
from exchange_mock.engine import adl
from exchange_mock.engine.liquidation import Liquidator
from exchange_mock.engine.margin_calls import MarginCalls
from exchange_mock.engine.state import State
from exchange_mock.types import AccountId, Millis


class RiskChecks:
    def __init__(self, state: State, liquidator: Liquidator, margin_calls: MarginCalls) -> None:
        self._state = state
        self._liquidator = liquidator
        self._margin_calls = margin_calls

    def at_mark(self, symbol: str, ts: Millis) -> list[Event]:
        """The checks after the symbol's mark (or anything its holders' margin rests on)
        moved."""
        return self._liquidate_due(symbol, ts) + self._margin_calls.at_mark(symbol, ts)

    def at_collateral_price(self, asset: str, ts: Millis) -> list[Event]:
        """The checks after a collateral asset's price moved: its holders'."""
        state, watch = self._state, self._state.watch
        watch.repriced(asset)
        watch.refresh(state.accounts)
        holders = sorted(watch.holders.get(asset, ()))
        events: list[Event] = []
        for account_id in holders:
            account = state.accounts[account_id]
            if self._liquidator.due(account):
                events += self._liquidator.liquidate(account, ts)
                watch.refresh(state.accounts)
        return events + self._margin_calls.review(holders, ts)

    def adl_quantiles(self, symbol: str, ts: Millis) -> list[Event]:
        """Rank the symbol's positions again; journal the quantiles that moved."""
        state = self._state
        state.watch.refresh(state.accounts)
        index = state.watch.symbols[symbol].liquidation
        sides = ([state.accounts[a] for a in index.holders(long)] for long in (True, False))
        ranked = adl.quantiles(sides, symbol)
        event = adl.changes(symbol, state.adl_quantiles[symbol], ranked, ts)
        state.adl_quantiles[symbol] = ranked
        return [] if event is None else [event]

    def _liquidate_due(self, symbol: str, ts: Millis) -> list[Event]:
        """Liquidate, most underwater first, every account the symbol's mark put at or past
        its maintenance margin, re-reading the watch list after each (a liquidation moves its
        counterparties' margin). An account is taken at most once per mark."""
        state, watch = self._state, self._state.watch
        listed = watch.symbols[symbol].liquidation
        mark = state.contracts[symbol].mark_price()
        events: list[Event] = []
        if mark is None:
            return events
        done: set[AccountId] = set()
        while True:
            watch.refresh(state.accounts)
            account_id = next((a for a in listed.due(mark) if a not in done), None)
            if account_id is None:
                return events
            done.add(account_id)
            events += self._liquidator.liquidate(state.accounts[account_id], ts)
