"""Funding: at the end of each funding interval, every open position in the symbol pays or
receives its notional at the mark × the interval's rate (positive: longs pay shorts). Only
perpetuals fund: a dated contract converges on its index by delivering, so funding it is a no-op.

Longs and shorts hold the same size, so the payments cancel exactly before rounding. Each is
rounded against its account (a payer pays a cash unit more, a receiver gets one less), so what
is paid always covers what is received, and the few units left over go to the insurance fund:
cash is conserved to the unit. Paying funding can put an account at its margin, so the checks
every price move runs follow, on every symbol.
"""

from __future__ import annotations

from exchange_mock.domain.commands import SettleFunding
from exchange_mock.domain.events import (
    Event,
    FundFlow,
    FundingFeeCharged,
    FundingSettled,
    InsuranceFundChanged,
)
from exchange_mock.domain.replies import Done, Rejected
from exchange_mock.engine.checks import RiskChecks
from exchange_mock.engine.refusals import INVALID_SYMBOL, Outcome
from exchange_mock.engine.state import State
from exchange_mock.errors import Code
from exchange_mock.risk import RATE_SCALE

_SETTLED = Rejected(Code.INVALID_PARAMETER, "Data sent for parameter 'fundingTime' is not valid.")
"""The interval was settled already (or an earlier one is sent after a later)."""


class Funding:
    def __init__(self, state: State, checks: RiskChecks) -> None:
        self._state = state
        self._checks = checks

    def settle(self, command: SettleFunding) -> Outcome:
        state = self._state
        contract = state.contracts.get(command.symbol)
        if contract is None:
            return [], INVALID_SYMBOL
        if contract.spec.delivery_date is not None:
            return [], Done()
        if command.funding_time <= contract.funded_until:
            return [], _SETTLED
        contract.funded_until = command.funding_time
        mark = contract.mark_price()
        ts = command.ts
        events: list[Event] = [
            FundingSettled(command.symbol, command.rate, mark or 0, command.funding_time, ts)
        ]
        if mark is None:
            return events, Done()
        state.watch.refresh(state.accounts)
        paid = 0
        for account_id in sorted(state.watch.symbols[command.symbol].liquidation.entries):
            account = state.accounts[account_id]
            position = account.positions[command.symbol]
            owed = mark * position.qty * contract.unit * command.rate
            amount = -owed // RATE_SCALE
            if amount:
                account.balance += amount
                paid -= amount
                state.watch.stale.add(account_id)
                events.append(
                    FundingFeeCharged(account_id, command.symbol, amount, account.balance, ts)
                )
        if paid:
            state.insurance.cash += paid
            events.append(
                InsuranceFundChanged(paid, state.insurance.cash, FundFlow.FUNDING, None, ts)
            )
        for symbol in state.contracts:
            events += self._checks.at_mark(symbol, ts)
        return events, Done()
