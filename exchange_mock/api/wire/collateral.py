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


def collateral_assets(view: AccountView, free: Cash) -> list[JsonObject]:
    """Each collateral asset the account holds, in its own units (1e-8, printed like cash):
    what `free` margin allows of it to be withdrawn at its haircut value."""
    assets = []
    for asset, amount in sorted(view.collateral.items()):
        price = view.collateral_prices.get(asset)
        if not amount or price is None:
            continue
        held = cash_str(amount)
        free_units = cash_str(min(amount, collateral_units(free, *price)))
        assets.append(
            {
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
                "availableBalance": free_units,
                "maxWithdrawAmount": free_units,
                "marginAvailable": True,
                "updateTime": view.balance_update_time,
            }
        )
    return assets
