"""Margin calls: warning an account whose margin ratio (maintenance margin ÷ equity) reached the
margin-call level, below liquidation's 100%, before it is liquidated.

An account is called once per crossing: MarginCallIssued when its ratio reaches the level, then
nothing more until MarginCallLifted, when it is back under (or holds nothing, say after its
liquidation). Both are journaled, so a replay knows who is under a call. The candidates are
found as liquidations are: the watch lists index every position by the price at which its
account reaches the level, so a mark looks only at the accounts past it, and at those already
called (to lift them).
"""

from __future__ import annotations

from collections.abc import Iterable

from exchange_mock.domain.events import (
    Event,
    MarginCallIssued,
    MarginCallLifted,
    MarginCallPosition,
)
from exchange_mock.engine.margin import exposure
from exchange_mock.engine.positions import Account
from exchange_mock.engine.state import State
from exchange_mock.types import PPM, AccountId, Millis


class MarginCalls:
    def __init__(self, state: State, ratio_ppm: int) -> None:
        self._state = state
        self._ratio_ppm = ratio_ppm

    def over(self, account: Account) -> bool:
        """Whether the account's margin ratio is at or above the margin-call level."""
        equity, maintenance = exposure(account)
        return maintenance > 0 and equity * self._ratio_ppm <= maintenance * PPM

    def at_mark(self, symbol: str, ts: Millis) -> list[Event]:
        """Review the accounts the symbol's mark put past the level, and those called."""
        state = self._state
        mark = state.contracts[symbol].mark_price()
        state.watch.refresh(state.accounts)
        due = [] if mark is None else state.watch.symbols[symbol].margin_call.due(mark)
        return self.review(due, ts)

    def review(self, candidates: Iterable[AccountId], ts: Millis) -> list[Event]:
        """Call the candidates over the level not called yet; lift the calls of accounts back
        under it. By account id, so a replay of the same commands calls in the same order."""
        state = self._state
        called = state.margin_called
        events: list[Event] = []
        for account_id in sorted({*candidates, *called}):
            account = state.accounts[account_id]
            over = self.over(account)
            if over and account_id not in called:
                called.add(account_id)
                events.append(self._issue(account, ts))
            elif not over and account_id in called:
                called.discard(account_id)
                events.append(MarginCallLifted(account_id, ts))
        return events

    @staticmethod
    def _issue(account: Account, ts: Millis) -> MarginCallIssued:
        positions = []
        for symbol in sorted(account.positions):
            position = account.positions[symbol]
            if position.qty:
                contract = position.contract
                mark = contract.mark_price() or 0
                notional = mark * position.qty * contract.unit
                positions.append(
                    MarginCallPosition(
                        symbol,
                        position.qty,
                        mark,
                        notional - position.cost,
                        contract.tiers.maintenance(abs(notional)),
                    )
                )
        return MarginCallIssued(account.id, account.wallet(), tuple(positions), ts)
