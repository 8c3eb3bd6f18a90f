"""Opening the crowd: leveraged traders already holding positions when a shock comes, so a
cascade has someone to liquidate (its shape, `settings.Crowd`, is configuration).

One definition serves the live exchange's genesis (`genesis.py`) and the tests' in-process
simulation. The crowd is a list of commands: fund each trader, set its leverage,
and open its position by trading at its entry with a "holder" account resting the other side.
Whichever engine applies them, pure or live, ends with the same positions, journaled,
margined and conserved like any other trade.
"""

from __future__ import annotations

import math
import random

from exchange_mock.collateral import CollateralSpec
from exchange_mock.domain.commands import (
    CancelAllOrders,
    Command,
    DepositCollateral,
    FundAccount,
    PlaceOrder,
    SetLeverage,
)
from exchange_mock.errors import ConfigError
from exchange_mock.settings import Crowd
from exchange_mock.symbols import SymbolSpec
from exchange_mock.types import CASH_SCALE, AccountId, Cash, Millis, OrderType, Side, TimeInForce

HOLDER_BALANCE = 1_000_000_000.0
"""USDT each holder starts with: enough to carry its share of the crowd's other side."""


def open_crowd(
    crowd: Crowd,
    spec: SymbolSpec,
    first: AccountId,
    rng: random.Random,
    ts: Millis,
    collateral: CollateralSpec | None = None,
) -> list[Command]:
    """The commands that give `crowd` its positions in `spec`'s contract, on accounts `first`
    to `first + crowd.size - 1`. Apply them on a book no one else quotes yet, so every entry
    trades with its holder; they end with one trade at the reference price, so the book's last
    price (what the makers first quote around) is not the last entry's."""
    price = float(spec.reference_price)
    tick, step = float(spec.tick_size), float(spec.step_size)
    holders = [AccountId(first + number) for number in range(crowd.holders)]
    commands: list[Command] = [
        FundAccount(holder, to_cash_f(HOLDER_BALANCE), ts) for holder in holders
    ]

    def limit(account: AccountId, side: Side, lots: int, at: int, tif: TimeInForce) -> PlaceOrder:
        return PlaceOrder(account, spec.symbol, side, OrderType.LIMIT, lots, at, tif, False, "", ts)

    low, high = (math.log(bound) for bound in crowd.leverage)
    for number, trader in enumerate(crowd.traders(first)):
        account = AccountId(trader)
        side = Side.BUY if rng.random() < crowd.long_share else Side.SELL
        notional = crowd.median_notional * math.exp(rng.gauss(0.0, 1.0))
        lots = max(1, int(notional / (price * step)))
        notional = lots * price * step
        equity = notional / math.exp(rng.uniform(low, high))
        behind = rng.uniform(*crowd.underwater)
        entry = round(price * (1 + side.sign * behind) / tick)
        wallet = equity + behind * notional
        leverage = max(
            tier.max_leverage
            for tier in spec.brackets
            if float(tier.notional_cap) >= notional * 1.05
        )
        wallet = max(wallet, notional * 1.05 / leverage + notional * 0.001)
        if collateral is not None and rng.random() < crowd.collateral_share:
            units = wallet / (1 - float(collateral.haircut))
            commands.append(DepositCollateral(account, collateral.asset, to_cash_f(units), ts))
        else:
            commands.append(FundAccount(account, to_cash_f(wallet), ts))
        holder = holders[number % len(holders)]
        commands += [
            SetLeverage(account, spec.symbol, leverage, ts),
            limit(holder, side.opposite, lots, entry, TimeInForce.GTC),
            limit(account, side, lots, entry, TimeInForce.IOC),
            CancelAllOrders(holder, spec.symbol, ts),
        ]
    reference = spec.ticks(spec.reference_price)
    if reference is None:
        raise ConfigError(f"{spec.symbol}: reference price is not a whole number of ticks")
    commands.append(limit(holders[0], Side.SELL, 1, reference, TimeInForce.GTC))
    commands.append(limit(holders[-1], Side.BUY, 1, reference, TimeInForce.IOC))
    return commands


def to_cash_f(amount: float) -> Cash:
    """A simulated amount (float USDT) as cash, rounded to a cent: the simulation's inputs are
    round figures, and the engine only ever sees the integer."""
    return round(amount * 100) * CASH_SCALE // 100
