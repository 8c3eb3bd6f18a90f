"""Collateral on the wire: the wallet with each asset at its haircut value, as the engine counts
margin, and the assets an account holds, with what free margin lets go of each."""

from __future__ import annotations

from exchange_mock.formats import ZERO, JsonObject, cash_str
from exchange_mock.risk import collateral_units, collateral_value
from exchange_mock.store.views import AccountView
from exchange_mock.types import Cash


def wallet(view: AccountView) -> Cash:
    """USDT plus collateral at its haircut value, as the engine counts margin."""
    total = view.balance
    for asset, amount in view.collateral.items():
        price = view.collateral_prices.get(asset)
        if price is not None:
            total += collateral_value(amount, *price)
    return total


def collateral_assets(view: AccountView, free: Cash, backed: Cash) -> list[JsonObject]:
    """Each collateral asset the account holds, in its own units (1e-8, printed like cash).

    `backed` is the initial margin USDT does not cover: the assets take it in turn, each as
    much as its haircut value holds, so each row's available and initial margin add up to its
    balance. What may be withdrawn is at most the available part, and what `free` margin lets
    go of at its haircut value."""
    assets = []
    for asset, amount in sorted(view.collateral.items()):
        price = view.collateral_prices.get(asset)
        if not amount or price is None:
            continue
        used = min(amount, _covering(backed, price)) if backed > 0 else 0
        backed -= collateral_value(used, *price)
        available = amount - used
        held = cash_str(amount)
        withdrawable = cash_str(min(available, collateral_units(free, *price)))
        assets.append(
            {
                **asset_row(view, asset, held),
                "initialMargin": cash_str(used),
                "availableBalance": cash_str(available),
                "maxWithdrawAmount": withdrawable,
            }
        )
    return assets


def _covering(cash: Cash, price: tuple[int, int]) -> int:
    """The fewest units of a collateral asset whose haircut value covers `cash` (> 0)."""
    return collateral_units(cash - 1, *price) + 1


def asset_row(view: AccountView, asset: str, held: str = ZERO) -> JsonObject:
    """An asset holding `held` with no margin against it: what Binance lists for each margin
    asset of an account, held or not (stamped with the account's balance time, so clients
    that pass over never-initialised rows, as ccxt does, read it)."""
    return {
        "accountAlias": f"SA{view.account}",
        "asset": asset,
        "balance": held,
        "walletBalance": held,
        "unrealizedProfit": ZERO,
        "marginBalance": held,
        "maintMargin": ZERO,
        "initialMargin": ZERO,
        "positionInitialMargin": ZERO,
        "openOrderInitialMargin": ZERO,
        "crossWalletBalance": held,
        "crossUnPnl": ZERO,
        "availableBalance": held,
        "maxWithdrawAmount": held,
        "marginAvailable": True,
        "updateTime": view.balance_update_time,
    }
