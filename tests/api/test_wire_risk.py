"""The risk side of the wire: positionRisk's ADL quantile, collateral counted in the account's
totals and listed as an asset (as ccxt reads it), and premiumIndex's index and funding."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt

from exchange_mock.api import wire
from exchange_mock.api.ratelimit import RateLimitTable
from exchange_mock.store.views import AccountView, MarkView, PositionView
from tests.api.fakes import BTC, NOW, SYMBOLS, TRADER, account_view
from tests.api.test_wire import answering

LEVERAGE = 20
USDT = 10**8
LONG = PositionView("BTCUSDT", qty=10, cost=1_200 * USDT, update_time=NOW - 10)
"""0.010 BTC bought at 120,000 (1,200 USDT of notional), marked at 121,000 below: +10 of
unrealized profit, 60.50 of initial margin at 20x."""


def view(**overrides: Any) -> AccountView:
    """1,000 USDT and 600 USDE at 1.00 with a 5% haircut (570 of margin), long 0.010 BTC."""
    values: dict[str, Any] = {
        "balance": 1_000 * USDT,
        "positions": {"BTCUSDT": LONG},
        "marks": {"BTCUSDT": 1_210_000, "ETHUSDT": 400_000},
        "collateral": {"USDE": 600 * USDT},
        "collateral_prices": {"USDE": (USDT, 50_000)},
        **overrides,
    }
    return account_view(TRADER.id, **values)


# -- positionRisk's adl -----------------------------------------------------------------------


def test_position_risk_v3_shows_the_engines_adl_quantile() -> None:
    rows = wire.positions.position_risk(
        view(adl={"BTCUSDT": 3, "ETHUSDT": 2}), SYMBOLS.symbols, 3, 20
    )
    assert [(row["symbol"], row["adl"]) for row in rows] == [("BTCUSDT", 3)]
    assert wire.positions.position_risk(view(), SYMBOLS.symbols, 3, 20)[0]["adl"] == 0, (
        "not ranked yet"
    )
    assert all(
        "adl" not in row for row in wire.positions.position_risk(view(), SYMBOLS.symbols, 2, 20)
    )


# -- collateral in the account ----------------------------------------------------------------


def test_account_totals_count_collateral_at_its_haircut_value() -> None:
    body = wire.accounts.account(view(), SYMBOLS.symbols, 3, LEVERAGE)
    assert (body["totalWalletBalance"], body["totalCrossWalletBalance"]) == (
        "1570.00000000",
        "1570.00000000",
    )
    assert body["totalMarginBalance"] == "1580.00000000"
    # What a new order may commit: wallet with collateral + 10 − 60.50 of initial margin.
    assert body["availableBalance"] == "1519.50000000"
    assert body["maxWithdrawAmount"] == "1509.50000000"
    usdt, usde = body["assets"]
    assert (usdt["asset"], usdt["walletBalance"], usdt["marginBalance"]) == (
        "USDT",
        "1000.00000000",
        "1010.00000000",
    )
    assert usdt["maxWithdrawAmount"] == "1000.00000000", "no more USDT than it holds"
    assert (usde["asset"], usde["walletBalance"], usde["availableBalance"]) == (
        "USDE",
        "600.00000000",
        "600.00000000",
    )
    assert set(usde) == set(wire.accounts.ACCOUNT_ASSET_FIELDS[3])


def test_collateral_is_free_only_as_far_as_the_margin_left_covers_it() -> None:
    """A USDT balance of −50 (losses the collateral backs) leaves 520 of wallet, 459.50 of it
    free of the 60.50 of initial margin (profit is not withdrawable): as much USDE as is worth
    459.50 at 0.95 may go, 483.68421053 (worth 459.500000003, counted as 459.50). USDT's margin
    balance (−40) carries none of the initial margin, so USDE holds all of it: 63.68421053 of
    USDE, the fewest units worth 60.50 (one unit less is worth 60.49999999), 536.31578947 left."""
    body = wire.accounts.account(view(balance=-50 * USDT), SYMBOLS.symbols, 2, LEVERAGE)
    assert body["totalWalletBalance"] == "520.00000000"
    assert body["multiAssetsMargin"] is True
    usdt, usde = body["assets"]
    assert usdt["maxWithdrawAmount"] == usdt["initialMargin"] == "0.00000000"
    assert usde["maxWithdrawAmount"] == "483.68421053"
    assert (usde["initialMargin"], usde["availableBalance"]) == ("63.68421053", "536.31578947")


def test_each_asset_rows_available_and_initial_margin_add_up_to_its_margin_balance() -> None:
    """USDT carries the 60.50 of initial margin (its margin balance is 1,010), USDE none; the
    margin assets the account does not hold are listed at zero, stamped so ccxt reads them."""
    body = wire.accounts.account(view(), SYMBOLS.symbols, 3, LEVERAGE, ("BTC", "USDE", "ETH"))
    rows = {row["asset"]: row for row in body["assets"]}
    assert list(rows) == ["USDT", "USDE", "BTC", "ETH"]
    for row in rows.values():
        free, used = Decimal(row["availableBalance"]), Decimal(row["initialMargin"])
        assert free + used == Decimal(row["marginBalance"]), row["asset"]
    assert (rows["USDT"]["availableBalance"], rows["USDT"]["initialMargin"]) == (
        "949.50000000",
        "60.50000000",
    )
    assert rows["BTC"]["walletBalance"] == rows["BTC"]["availableBalance"] == "0"
    assert rows["BTC"]["updateTime"] == rows["USDT"]["updateTime"] != 0


def test_balance_lists_usdt_and_each_collateral_asset_held() -> None:
    usdt, usde = wire.accounts.balances(view(), SYMBOLS.symbols, LEVERAGE)
    assert (usdt["asset"], usdt["balance"], usdt["availableBalance"]) == (
        "USDT",
        "1000.00000000",
        "949.50000000",
    )
    assert (usde["asset"], usde["balance"], usde["crossWalletBalance"]) == (
        "USDE",
        "600.00000000",
        "600.00000000",
    )
    assert set(usde) == set(wire.accounts.BALANCE_FIELDS)
    assert len(wire.accounts.balances(view(collateral={}), SYMBOLS.symbols, LEVERAGE)) == 1


def test_ccxt_fetch_balance_reads_both_assets() -> None:
    client = ccxt.binanceusdm({"apiKey": "k", "secret": "s", "options": {"fetchCurrencies": False}})
    info = wire.exchange_info.exchange_info(SYMBOLS, RateLimitTable.load().exchange_info(), NOW)
    for method, body in (
        ("fapiPublicGetExchangeInfo", info),
        ("fapiPrivateV3GetAccount", wire.accounts.account(view(), SYMBOLS.symbols, 3, LEVERAGE)),
    ):
        setattr(client, method, answering(body))
    balance = client.fetch_balance()
    assert (balance["USDT"]["free"], balance["USDT"]["used"]) == (949.5, 60.5)
    assert balance["USDT"]["total"] == 1010
    assert (balance["USDE"]["free"], balance["USDE"]["total"]) == (600, 600)


# -- premiumIndex -----------------------------------------------------------------------------


def test_premium_index_shows_the_index_and_the_funding_the_interval_comes_to() -> None:
    mark = MarkView("BTCUSDT", 1_225_000, NOW - 40, index=1_224_000, funding_rate=23_456)
    body = wire.market_data.premium_index(BTC, mark, NOW, funding_interval_ms=60_000)
    assert body == {
        "symbol": "BTCUSDT",
        "markPrice": "122500.00",
        "indexPrice": "122400.00",
        "estimatedSettlePrice": "122400.00",
        "lastFundingRate": "0.00023456",
        "interestRate": "0.00010000",
        "nextFundingTime": (NOW // 60_000 + 1) * 60_000,
        "time": NOW - 40,
    }
    negative = wire.market_data.premium_index(
        BTC, MarkView("BTCUSDT", 1_225_000, NOW, None, -7), NOW
    )
    assert (negative["indexPrice"], negative["lastFundingRate"]) == ("122500.00", "-0.00000007")
