"""What the risk side adds to an empty journal: the insurance fund's seed, the traders'
collateral deposits, the operator's shock account (funded, and at 1x so its cap allows the
largest dumps), and, when configured, a crowd of leveraged positions in every perpetual for a
shock to liquidate (the dated contracts have none: the cascades replayed are the perpetuals').

Ids follow the configured accounts: the shock account first, then each perpetual's crowd (its
holders, then its traders), in the symbol table's order. Every process derives them without
sharing state; the crowd's accounts have no API keys, as no client trades for them.
"""

from __future__ import annotations

import random

from exchange_mock.accounts import AccountBook
from exchange_mock.collateral import CollateralTable
from exchange_mock.domain.commands import (
    Command,
    DepositCollateral,
    FundAccount,
    SeedInsuranceFund,
    SetLeverage,
)
from exchange_mock.market.crowd import open_crowd
from exchange_mock.settings import Crowd
from exchange_mock.symbols import SymbolTable, to_cash
from exchange_mock.types import AccountId, Millis


def risk_genesis(
    accounts: AccountBook,
    symbols: SymbolTable,
    table: CollateralTable,
    ts: Millis,
    crowd: Crowd | None = None,
    seed: int = 0,
) -> list[Command]:
    """The commands in order; `seed` draws the crowd, so one seed opens the same crowd in
    every process and on every restart."""
    genesis = table.genesis
    commands: list[Command] = []
    if genesis.insurance_fund:
        commands.append(SeedInsuranceFund(to_cash(genesis.insurance_fund), ts))
    for account in accounts.traders:
        for asset, amount in sorted(genesis.trader_collateral.items()):
            if amount and table.get(asset) is not None:
                commands.append(DepositCollateral(account.id, asset, to_cash(amount), ts))
    shocker = accounts.shock_account
    commands.append(FundAccount(shocker, to_cash(genesis.shock_balance), ts))
    commands += [SetLeverage(shocker, spec.symbol, 1, ts) for spec in symbols.symbols]
    if crowd is not None:
        rng = random.Random(seed)
        margin = table.assets[0] if table.assets else None
        for number, spec in enumerate(symbols.perpetuals):
            first = AccountId(shocker + 1 + number * crowd.size)
            commands += open_crowd(crowd, spec, first, rng, ts, margin)
    return commands
