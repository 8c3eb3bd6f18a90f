"""Account information (v2, v3) and the futures balance: the account's totals under cross
margin, its USDT asset and each collateral asset it holds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from exchange_mock.api.wire.collateral import asset_row, collateral_assets, wallet
from exchange_mock.api.wire.positions import Valued, listed, position_fields, value
from exchange_mock.api.wire.response import Version, project
from exchange_mock.formats import MARGIN_ASSET, JsonObject, cash_str
from exchange_mock.store.views import AccountView, IncomeView
from exchange_mock.symbols import SymbolSpec
from exchange_mock.types import Cash

ACCOUNT_POSITION_FIELDS: dict[Version, tuple[str, ...]] = {
    2: (
        "symbol",
        "initialMargin",
        "maintMargin",
        "unrealizedProfit",
        "positionInitialMargin",
        "openOrderInitialMargin",
        "leverage",
        "isolated",
        "entryPrice",
        "breakEvenPrice",
        "maxNotional",
        "bidNotional",
        "askNotional",
        "positionSide",
        "positionAmt",
        "updateTime",
    ),
    3: (
        "symbol",
        "positionSide",
        "positionAmt",
        "unrealizedProfit",
        "isolatedMargin",
        "notional",
        "isolatedWallet",
        "initialMargin",
        "maintMargin",
        "updateTime",
    ),
}
_TOTALS = (
    "totalInitialMargin",
    "totalMaintMargin",
    "totalWalletBalance",
    "totalUnrealizedProfit",
    "totalMarginBalance",
    "totalPositionInitialMargin",
    "totalOpenOrderInitialMargin",
    "totalCrossWalletBalance",
    "totalCrossUnPnl",
    "availableBalance",
    "maxWithdrawAmount",
)
ACCOUNT_FIELDS: dict[Version, tuple[str, ...]] = {
    2: (
        "feeTier",
        "feeBurn",
        "canTrade",
        "canDeposit",
        "canWithdraw",
        "updateTime",
        "multiAssetsMargin",
        "tradeGroupId",
        *_TOTALS,
        "assets",
        "positions",
    ),
    3: (*_TOTALS, "assets", "positions"),
}
_ASSET = (
    "asset",
    "walletBalance",
    "unrealizedProfit",
    "marginBalance",
    "maintMargin",
    "initialMargin",
    "positionInitialMargin",
    "openOrderInitialMargin",
    "crossWalletBalance",
    "crossUnPnl",
    "availableBalance",
    "maxWithdrawAmount",
)
ACCOUNT_ASSET_FIELDS: dict[Version, tuple[str, ...]] = {
    2: (*_ASSET, "marginAvailable", "updateTime"),
    3: (*_ASSET, "updateTime"),
}
BALANCE_FIELDS: tuple[str, ...] = (
    "accountAlias",
    "asset",
    "balance",
    "crossWalletBalance",
    "crossUnPnl",
    "availableBalance",
    "maxWithdrawAmount",
    "marginAvailable",
    "updateTime",
)


class _Figures(NamedTuple):
    usdt: JsonObject
    """The USDT asset's fields (also the balance endpoint's)."""
    totals: JsonObject
    """The account's `total…`, `availableBalance` and `maxWithdrawAmount`."""
    withdrawable: Cash
    backed: Cash
    """The initial margin USDT does not cover, which collateral holds."""


def _figures(view: AccountView, valued: list[Valued]) -> _Figures:
    """The USDT asset's figures under cross margin and the account totals. The totals count
    collateral at its haircut value, as the engine's margin check does (so `availableBalance`
    is what a new order may commit). The USDT asset's figures are USDT alone: it carries the
    initial margin as far as its own margin balance goes, the rest falling to the collateral,
    so that each asset's available and initial margin add up to its margin balance."""
    usdt = view.balance
    total = wallet(view)
    unrealized = sum(p.unrealized for p in valued)
    positions = sum(p.initial_margin for p in valued)
    orders = sum(p.open_order_margin for p in valued)
    initial = positions + orders
    available = max(0, total + unrealized - initial)
    withdrawable = max(0, min(available, total - initial))
    usdt_margin = usdt + unrealized
    usdt_initial = min(initial, max(0, usdt_margin))
    usdt_positions = min(positions, usdt_initial)
    usdt_available = max(0, usdt_margin) - usdt_initial
    text = {
        "usdt": cash_str(usdt),
        "wallet": cash_str(total),
        "unrealized": cash_str(unrealized),
        "initial": cash_str(initial),
        "positions": cash_str(positions),
        "orders": cash_str(orders),
        "maint": cash_str(sum(p.maint_margin for p in valued)),
        "available": cash_str(available),
    }
    asset = {
        **asset_row(view, MARGIN_ASSET, text["usdt"]),
        "unrealizedProfit": text["unrealized"],
        "marginBalance": cash_str(usdt_margin),
        "maintMargin": text["maint"],
        "initialMargin": cash_str(usdt_initial),
        "positionInitialMargin": cash_str(usdt_positions),
        "openOrderInitialMargin": cash_str(usdt_initial - usdt_positions),
        "crossUnPnl": text["unrealized"],
        "availableBalance": cash_str(usdt_available),
        "maxWithdrawAmount": cash_str(max(0, min(withdrawable, usdt))),
    }
    totals = {
        "totalInitialMargin": text["initial"],
        "totalMaintMargin": text["maint"],
        "totalWalletBalance": text["wallet"],
        "totalUnrealizedProfit": text["unrealized"],
        "totalMarginBalance": cash_str(total + unrealized),
        "totalPositionInitialMargin": text["positions"],
        "totalOpenOrderInitialMargin": text["orders"],
        "totalCrossWalletBalance": text["wallet"],
        "totalCrossUnPnl": text["unrealized"],
        "availableBalance": text["available"],
        "maxWithdrawAmount": cash_str(withdrawable),
    }
    return _Figures(asset, totals, withdrawable, initial - usdt_initial)


def _assets(view: AccountView, figures: _Figures, margin_assets: Sequence[str]) -> list[JsonObject]:
    """USDT, each collateral asset held, then every other margin asset at zero."""
    held = [figures.usdt, *collateral_assets(view, figures.withdrawable, figures.backed)]
    shown = {row["asset"] for row in held}
    return [*held, *(asset_row(view, asset) for asset in margin_assets if asset not in shown)]


def account(
    view: AccountView,
    specs: Sequence[SymbolSpec],
    version: Version,
    default_leverage: int,
    margin_assets: Sequence[str] = (),
) -> JsonObject:
    """Account information; `specs` must be every listed symbol, since totals sum over them.
    The assets are USDT, each collateral asset held and the other `margin_assets` at zero."""
    every = [value(spec, view, default_leverage) for spec in specs]
    figures = _figures(view, every)
    assets = _assets(view, figures, margin_assets)
    listed_fields = ACCOUNT_POSITION_FIELDS[version]
    full = {
        **figures.totals,
        "feeTier": 0,
        "feeBurn": False,
        "canTrade": True,
        "canDeposit": True,
        "canWithdraw": True,
        "updateTime": 0,
        "multiAssetsMargin": any(view.collateral.values()),
        "tradeGroupId": -1,
        "assets": [project(asset, ACCOUNT_ASSET_FIELDS[version]) for asset in assets],
        "positions": [project(position_fields(p), listed_fields) for p in listed(every, version)],
    }
    return project(full, ACCOUNT_FIELDS[version])


def balances(
    view: AccountView,
    specs: Sequence[SymbolSpec],
    default_leverage: int,
    margin_assets: Sequence[str] = (),
) -> list[JsonObject]:
    """Futures account balance (v2 and v3 send the same shape): the assets as `account` lists
    them; `specs` as for `account`."""
    every = [value(spec, view, default_leverage) for spec in specs]
    assets = _assets(view, _figures(view, every), margin_assets)
    return [project(asset, BALANCE_FIELDS) for asset in assets]


def commission_rate(spec: SymbolSpec) -> JsonObject:
    """The symbol's fees as the engine charges them: one tier for every account."""
    return {
        "symbol": spec.symbol,
        "makerCommissionRate": str(spec.maker_fee),
        "takerCommissionRate": str(spec.taker_fee),
    }


def income(view: IncomeView) -> JsonObject:
    return {
        "symbol": view.symbol,
        "incomeType": view.income_type,
        "income": cash_str(view.amount),
        "asset": MARGIN_ASSET,
        "info": view.income_type,
        "time": view.time,
        "tranId": view.tran_id,
        "tradeId": "" if view.trade_id is None else str(view.trade_id),
    }
