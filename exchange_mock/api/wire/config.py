"""An account's configuration as Binance reports it (`accountConfig`, `symbolConfig`): what
bots read before their first order to learn the fee tier, the position and margin modes and
each symbol's leverage. The mock has one answer for the modes: one-way positions, cross
margin; multi-assets margin when the account holds collateral."""

from __future__ import annotations

from collections.abc import Sequence

from exchange_mock.api.wire.positions import max_notional
from exchange_mock.formats import JsonObject
from exchange_mock.risk import default_leverage
from exchange_mock.store.views import AccountView
from exchange_mock.symbols import SymbolSpec

CROSSED = "CROSSED"


def account_config(view: AccountView) -> JsonObject:
    return {
        "feeTier": 0,
        "canTrade": True,
        "canDeposit": True,
        "canWithdraw": True,
        "dualSidePosition": False,
        "updateTime": view.balance_update_time,
        "multiAssetsMargin": any(view.collateral.values()),
        "tradeGroupId": -1,
    }


def symbol_config(
    view: AccountView, specs: Sequence[SymbolSpec], leverage: int
) -> list[JsonObject]:
    """Each symbol's margin type and leverage (the account's, else `leverage` capped at the
    symbol's maximum, as the engine applies it) and the notional that leverage allows."""
    rows = []
    for spec in specs:
        chosen = view.leverage.get(spec.symbol) or default_leverage(spec, leverage)
        rows.append(
            {
                "symbol": spec.symbol,
                "marginType": CROSSED,
                "isAutoAddMargin": "false",
                "leverage": chosen,
                "maxNotionalValue": max_notional(spec, chosen),
            }
        )
    return rows
