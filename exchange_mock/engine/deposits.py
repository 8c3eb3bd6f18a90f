"""Money entering the exchange: cash into an account, collateral into an account, cash into the
insurance fund. These are what conservation is audited against: the cash seeded, and per
collateral asset the amount deposited."""

from __future__ import annotations

from exchange_mock.domain.commands import DepositCollateral, FundAccount, SeedInsuranceFund
from exchange_mock.domain.events import (
    AccountFunded,
    CollateralDeposited,
    FundFlow,
    InsuranceFundChanged,
)
from exchange_mock.domain.replies import Done
from exchange_mock.engine.refusals import BAD_AMOUNT, BAD_ASSET, Outcome
from exchange_mock.engine.state import State


class Deposits:
    def __init__(self, state: State) -> None:
        self._state = state

    def fund(self, command: FundAccount) -> Outcome:
        if command.amount <= 0:
            return [], BAD_AMOUNT
        state = self._state
        account = state.account(command.account)
        account.balance += command.amount
        state.seeded += command.amount
        state.watch.stale.add(account.id)
        return [AccountFunded(account.id, command.amount, account.balance, command.ts)], Done()

    def deposit(self, command: DepositCollateral) -> Outcome:
        state = self._state
        asset = state.assets.get(command.asset)
        if asset is None:
            return [], BAD_ASSET
        if command.amount <= 0:
            return [], BAD_AMOUNT
        account = state.account(command.account)
        holding = account.holding(asset)
        holding.amount += command.amount
        state.deposited[asset.asset] += command.amount
        state.watch.stale.add(account.id)
        event = CollateralDeposited(
            account.id, asset.asset, command.amount, holding.amount, command.ts
        )
        return [event], Done()

    def seed_fund(self, command: SeedInsuranceFund) -> Outcome:
        if command.amount <= 0:
            return [], BAD_AMOUNT
        state = self._state
        state.insurance.cash += command.amount
        state.seeded += command.amount
        event = InsuranceFundChanged(
            command.amount, state.insurance.cash, FundFlow.SEEDED, None, command.ts
        )
        return [event], Done()
