"""What the risk side adds to an empty journal: the insurance fund's seed, the traders'
collateral deposits, and the operator's shock account (funded, and at 1x so its cap allows the
largest dumps). The shock account is the first id after the configured accounts, so every
process derives it without sharing state."""

from __future__ import annotations

from exchange_mock.accounts import AccountBook
from exchange_mock.collateral import CollateralTable
from exchange_mock.domain.commands import (
    Command,
    DepositCollateral,
    FundAccount,
    SeedInsuranceFund,
    SetLeverage,
)
from exchange_mock.symbols import SymbolTable, to_cash
from exchange_mock.types import AccountId, Millis


def shock_account(accounts: AccountBook) -> AccountId:
    return AccountId(len(accounts.accounts) + 1)


def risk_genesis(
    accounts: AccountBook, symbols: SymbolTable, table: CollateralTable, ts: Millis
) -> list[Command]:
    seed = table.genesis
    commands: list[Command] = []
    if seed.insurance_fund:
        commands.append(SeedInsuranceFund(to_cash(seed.insurance_fund), ts))
    for account in accounts.traders:
        for asset, amount in sorted(seed.trader_collateral.items()):
            if amount and table.get(asset) is not None:
                commands.append(DepositCollateral(account.id, asset, to_cash(amount), ts))
    shocker = shock_account(accounts)
    commands.append(FundAccount(shocker, to_cash(seed.shock_balance), ts))
    commands += [SetLeverage(shocker, spec.symbol, 1, ts) for spec in symbols.symbols]
    return commands
