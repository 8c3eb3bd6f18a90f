"""The wire converters, read back by ccxt's own `binanceusdm` parsers.

ccxt's REST methods are replaced by functions answering with the converters' JSON, so ccxt runs
its real request building and response parsing without a network; what ccxt reads from each field
is what these tests pin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ccxt
import orjson
import pytest

from exchange_mock.api import wire
from exchange_mock.api.filters import place_order
from exchange_mock.api.params import Params
from exchange_mock.api.ratelimit import RateLimitTable
from exchange_mock.formats import agg_trade, aggregated, cash_str
from exchange_mock.store.views import (
    AccountView,
    DepthView,
    MarkView,
    PositionView,
    TickerView,
    TradeView,
)
from exchange_mock.types import AccountId, OrderStatus, OrderType
from tests.api.fakes import BTC, ETH, NOW, SYMBOLS, account_view, snapshot

BTC_MARKET = "BTC/USDT:USDT"
ACCOUNT = AccountId(7)
LEVERAGE = 20


def over_the_wire(content: Any) -> Any:
    """What a client decodes: the converter's output serialized and parsed back."""
    return orjson.loads(orjson.dumps(content))


def answering(content: Any, seen: list[dict[str, Any]] | None = None) -> Callable[..., Any]:
    def endpoint(params: dict[str, Any] | None = None, *_: Any) -> Any:
        if seen is not None:
            seen.append(dict(params or {}))
        return over_the_wire(content)

    return endpoint


@pytest.fixture
def binance() -> Any:
    client = ccxt.binanceusdm({"apiKey": "k", "secret": "s", "options": {"fetchCurrencies": False}})
    published = RateLimitTable.load().exchange_info()
    client.fapiPublicGetExchangeInfo = answering(
        wire.exchange_info.exchange_info(SYMBOLS, published, NOW)
    )
    client.fapiPrivateGetLeverageBracket = answering(
        [wire.exchange_info.leverage_brackets(spec) for spec in SYMBOLS.symbols]
    )
    client.load_markets()
    return client


def long_btc(**overrides: Any) -> AccountView:
    """0.010 BTC bought at 120,000 (cost 1,200 USDT), marked at 121,000."""
    position = PositionView("BTCUSDT", qty=10, cost=1_200 * 10**8, update_time=NOW - 10)
    return account_view(
        ACCOUNT,
        positions={"BTCUSDT": position},
        marks={"BTCUSDT": 1_210_000, "ETHUSDT": 400_000},
        **overrides,
    )


def short_btc() -> AccountView:
    position = PositionView("BTCUSDT", qty=-10, cost=-1_200 * 10**8, update_time=NOW - 10)
    return account_view(ACCOUNT, positions={"BTCUSDT": position}, marks={"BTCUSDT": 1_210_000})


# -- exchangeInfo -----------------------------------------------------------------------------


def test_exchange_info_publishes_binances_rate_limits() -> None:
    info = wire.exchange_info.exchange_info(SYMBOLS, RateLimitTable.load().exchange_info(), NOW)
    assert info["rateLimits"] == [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
        {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
    ]
    assert info["serverTime"] == NOW
    assert info["timezone"] == "UTC"


def test_exchange_info_symbols_carry_every_field_the_reference_lists() -> None:
    [btc, _eth] = wire.exchange_info.exchange_info(SYMBOLS, [], NOW)["symbols"]
    assert {
        "symbol", "pair", "contractType", "deliveryDate", "onboardDate", "status", "baseAsset",
        "quoteAsset", "marginAsset", "pricePrecision", "quantityPrecision", "baseAssetPrecision",
        "quotePrecision", "filters", "orderTypes", "timeInForce", "liquidationFee",
        "marketTakeBound",
    } <= set(btc)  # fmt: skip
    assert btc["orderTypes"] == ["LIMIT", "MARKET"]
    assert btc["timeInForce"] == ["GTC", "IOC", "FOK", "GTX"]
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert filters["PRICE_FILTER"] == {
        "filterType": "PRICE_FILTER",
        "minPrice": "261.10",
        "maxPrice": "809484",
        "tickSize": "0.10",
    }
    assert filters["MARKET_LOT_SIZE"]["maxQty"] == "120"
    assert filters["MIN_NOTIONAL"]["notional"] == "100"
    assert filters["PERCENT_PRICE"]["multiplierDecimal"] == "4"
    assert filters["MAX_NUM_ORDERS"]["limit"] == 200


def test_ccxt_loads_the_markets_with_the_contracts_filters(binance: Any) -> None:
    market = binance.market(BTC_MARKET)
    assert (market["swap"], market["linear"], market["active"], market["settle"]) == (
        True,
        True,
        True,
        "USDT",
    )
    assert market["precision"] == {"amount": 0.001, "price": 0.1, "base": 1e-8, "quote": 1e-8}
    assert market["limits"]["amount"] == {"min": 0.001, "max": 1000}
    assert market["limits"]["market"] == {"min": 0.001, "max": 120}
    assert market["limits"]["price"] == {"min": 261.1, "max": 809484}
    assert market["limits"]["cost"]["min"] == 100


# -- orders -----------------------------------------------------------------------------------

ORDER_FIELDS = {
    "orderId", "clientOrderId", "symbol", "status", "type", "origType", "side", "positionSide",
    "price", "avgPrice", "origQty", "executedQty", "cumQty", "cumQuote", "timeInForce",
    "reduceOnly", "closePosition", "stopPrice", "workingType", "priceProtect", "time",
    "updateTime",
}  # fmt: skip


def test_an_order_has_the_fields_binance_sends_with_ids_as_integers() -> None:
    body = wire.orders.order(BTC, snapshot())
    assert set(body) >= ORDER_FIELDS
    assert body["orderId"] == 42
    assert (body["price"], body["origQty"], body["executedQty"], body["avgPrice"]) == (
        "120000.00",
        "0.010",
        "0.000",
        "0",
    )


def test_ccxt_creates_a_limit_order_our_filters_accept_and_parses_the_reply(binance: Any) -> None:
    sent: list[dict[str, Any]] = []
    binance.fapiPrivatePostOrder = answering(wire.orders.order(BTC, snapshot()), sent)
    order = binance.create_order(BTC_MARKET, "limit", "buy", 0.01, 120000)
    command = place_order(Params.parse(binance.urlencode(sent[0]).encode()), SYMBOLS, ACCOUNT, NOW)
    assert (command.qty, command.price, command.type) == (10, 1_200_000, OrderType.LIMIT)
    assert (order["id"], order["clientOrderId"], order["timestamp"]) == ("42", "my-order", NOW - 1)
    assert (order["symbol"], order["type"], order["side"], order["status"]) == (
        BTC_MARKET,
        "limit",
        "buy",
        "open",
    )
    assert (order["price"], order["amount"], order["filled"], order["remaining"]) == (
        120000,
        0.01,
        0,
        0.01,
    )
    assert (order["timeInForce"], order["reduceOnly"], order["postOnly"]) == ("GTC", False, False)


def test_ccxt_reads_a_filled_market_orders_average_and_cost(binance: Any) -> None:
    filled = snapshot(
        type=OrderType.MARKET,
        time_in_force=None,
        price=None,
        executed_qty=10,
        cum_quote=120_005 * 10**6,
        status=OrderStatus.FILLED,
    )
    sent: list[dict[str, Any]] = []
    binance.fapiPrivatePostOrder = answering(wire.orders.order(BTC, filled), sent)
    order = binance.create_order(BTC_MARKET, "market", "sell", 0.01, params={"reduceOnly": True})
    command = place_order(Params.parse(binance.urlencode(sent[0]).encode()), SYMBOLS, ACCOUNT, NOW)
    assert command.reduce_only is True
    assert (order["status"], order["filled"], order["cost"], order["average"]) == (
        "closed",
        0.01,
        1200.05,
        120005,
    )


# -- positions --------------------------------------------------------------------------------

POSITION_RISK_V2 = {
    "symbol", "positionAmt", "entryPrice", "breakEvenPrice", "markPrice", "unRealizedProfit",
    "liquidationPrice", "leverage", "maxNotionalValue", "marginType", "isolatedMargin",
    "isAutoAddMargin", "positionSide", "notional", "isolatedWallet", "updateTime",
}  # fmt: skip
POSITION_RISK_V3 = (POSITION_RISK_V2 - {"leverage", "marginType", "maxNotionalValue",
    "isAutoAddMargin"}) | {"marginAsset", "initialMargin", "maintMargin",
    "positionInitialMargin", "openOrderInitialMargin", "adl"}  # fmt: skip


def test_position_risk_v2_lists_every_symbol_with_binances_fields() -> None:
    rows = wire.positions.position_risk(long_btc(), SYMBOLS.symbols, 2, LEVERAGE)
    assert [row["symbol"] for row in rows] == ["BTCUSDT", "ETHUSDT"]
    assert all(set(row) >= POSITION_RISK_V2 for row in rows)
    btc, eth = rows
    assert btc["positionAmt"] == "0.010"
    assert btc["entryPrice"] == "120000.00000000"
    assert btc["markPrice"] == "121000.00"
    assert btc["unRealizedProfit"] == "10.00000000"
    assert btc["notional"] == "1210.00000000"
    assert (btc["leverage"], btc["maxNotionalValue"], btc["marginType"]) == (
        "20",
        "80000000",
        "cross",
    )
    # 1,000 of wallet behind 0.01 BTC bought at 120,000: (1,200 − 1,000) / (0.01 × 0.996).
    assert (btc["liquidationPrice"], btc["positionSide"], btc["updateTime"]) == (
        "20080.32128514",
        "BOTH",
        NOW - 10,
    )
    assert (eth["positionAmt"], eth["entryPrice"], eth["unRealizedProfit"]) == (
        "0.000",
        "0",
        "0.00000000",
    )
    assert eth["updateTime"] == 0


def test_position_risk_v3_lists_only_open_positions_with_margins() -> None:
    [btc] = wire.positions.position_risk(long_btc(), SYMBOLS.symbols, 3, LEVERAGE)
    assert set(btc) >= POSITION_RISK_V3
    assert not {"leverage", "marginType"} & set(btc)
    assert btc["initialMargin"] == "60.50000000"
    assert btc["maintMargin"] == "4.84000000"
    assert btc["marginAsset"] == "USDT"


def test_maintenance_margin_follows_the_bracket_of_the_notional() -> None:
    """1 BTC at 121,000 is in the second bracket: 0.5% minus cum 50 = 555."""
    position = PositionView("BTCUSDT", qty=1_000, cost=120_000 * 10**8, update_time=1)
    view = account_view(ACCOUNT, positions={"BTCUSDT": position}, marks={"BTCUSDT": 1_210_000})
    [btc] = wire.positions.position_risk(view, [BTC], 3, LEVERAGE)
    assert btc["maintMargin"] == "555.00000000"


def test_leverage_comes_from_the_account_or_the_default() -> None:
    view = long_btc(leverage={"BTCUSDT": 125})
    btc, eth = wire.positions.position_risk(view, SYMBOLS.symbols, 2, LEVERAGE)
    assert (btc["leverage"], btc["maxNotionalValue"]) == ("125", "50000")
    assert (eth["leverage"], eth["maxNotionalValue"]) == ("20", "80000000")


def test_a_default_above_the_symbols_highest_leverage_shows_the_engines_cap() -> None:
    [btc] = wire.positions.position_risk(account_view(ACCOUNT), [BTC], 2, 200)
    assert (btc["leverage"], btc["maxNotionalValue"]) == ("125", "50000")


def test_a_symbol_without_a_mark_yet_is_marked_at_its_reference_price() -> None:
    [eth] = wire.positions.position_risk(account_view(ACCOUNT), [ETH], 2, LEVERAGE)
    assert eth["markPrice"] == ETH.price_str(ETH.ticks(ETH.reference_price) or 0)


def test_ccxt_fetch_positions_reads_v3_position_risk(binance: Any) -> None:
    binance.fapiPrivateV3GetPositionRisk = answering(
        wire.positions.position_risk(long_btc(), SYMBOLS.symbols, 3, LEVERAGE)
    )
    [position] = binance.fetch_positions()
    assert (position["symbol"], position["side"], position["contracts"]) == (
        BTC_MARKET,
        "long",
        0.01,
    )
    assert (position["entryPrice"], position["markPrice"], position["notional"]) == (
        120000,
        121000,
        1210,
    )
    assert (position["unrealizedPnl"], position["initialMargin"]) == (10, 60.5)
    assert (position["maintenanceMargin"], position["marginMode"]) == (4.84, "cross")
    assert (position["hedged"], position["timestamp"]) == (False, NOW - 10)


def test_ccxt_reads_a_short_as_a_short_losing_as_the_mark_rises(binance: Any) -> None:
    binance.fapiPrivateV3GetPositionRisk = answering(
        wire.positions.position_risk(short_btc(), SYMBOLS.symbols, 3, LEVERAGE)
    )
    [position] = binance.fetch_positions()
    assert (position["side"], position["contracts"], position["entryPrice"]) == (
        "short",
        0.01,
        120000,
    )
    assert position["unrealizedPnl"] == -10


def test_ccxt_fetch_positions_with_v2_reads_leverage_and_skips_flat_symbols(binance: Any) -> None:
    binance.fapiPrivateV2GetPositionRisk = answering(
        wire.positions.position_risk(long_btc(), SYMBOLS.symbols, 2, LEVERAGE)
    )
    [btc] = binance.fetch_positions(params={"useV2": True})
    assert (btc["leverage"], btc["contracts"], btc["marginMode"]) == (20, 0.01, "cross")


# -- account and balance ----------------------------------------------------------------------


def test_account_v3_has_the_totals_one_usdt_asset_and_open_positions_only() -> None:
    body = wire.accounts.account(long_btc(), SYMBOLS.symbols, 3, LEVERAGE)
    assert set(body) == set(wire.accounts.ACCOUNT_FIELDS[3])
    assert (body["totalWalletBalance"], body["totalUnrealizedProfit"]) == (
        "1000.00000000",
        "10.00000000",
    )
    assert (body["totalMarginBalance"], body["totalInitialMargin"]) == (
        "1010.00000000",
        "60.50000000",
    )
    assert (body["availableBalance"], body["maxWithdrawAmount"]) == (
        "949.50000000",
        "939.50000000",
    )
    [usdt] = body["assets"]
    assert usdt["asset"] == "USDT"
    assert usdt["updateTime"] == NOW - 60_000
    assert [p["symbol"] for p in body["positions"]] == ["BTCUSDT"]
    assert body["positions"][0]["unrealizedProfit"] == "10.00000000"


def test_account_v2_lists_every_symbol_with_leverage() -> None:
    body = wire.accounts.account(long_btc(), SYMBOLS.symbols, 2, LEVERAGE)
    assert {"feeTier", "canTrade", "updateTime", "multiAssetsMargin"} <= set(body)
    assert "marginAvailable" in body["assets"][0]
    assert [(p["symbol"], p["leverage"]) for p in body["positions"]] == [
        ("BTCUSDT", "20"),
        ("ETHUSDT", "20"),
    ]


def test_ccxt_fetch_balance_reads_the_v3_account(binance: Any) -> None:
    binance.fapiPrivateV3GetAccount = answering(
        wire.accounts.account(long_btc(), SYMBOLS.symbols, 3, LEVERAGE)
    )
    balance = binance.fetch_balance()
    assert (balance["USDT"]["free"], balance["USDT"]["used"], balance["USDT"]["total"]) == (
        949.5,
        60.5,
        1010,
    )


def test_an_unfunded_account_has_update_time_zero_which_ccxt_skips(binance: Any) -> None:
    unfunded = account_view(ACCOUNT, balance=0, balance_update_time=0)
    binance.fapiPrivateV3GetAccount = answering(
        wire.accounts.account(unfunded, SYMBOLS.symbols, 3, LEVERAGE)
    )
    assert "USDT" not in binance.fetch_balance()


def test_balance_has_binances_fields() -> None:
    [usdt] = wire.accounts.balances(long_btc(), SYMBOLS.symbols, LEVERAGE)
    assert set(usdt) == {
        "accountAlias", "asset", "balance", "crossWalletBalance", "crossUnPnl",
        "availableBalance", "maxWithdrawAmount", "marginAvailable", "updateTime",
    }  # fmt: skip
    assert (usdt["balance"], usdt["crossUnPnl"], usdt["availableBalance"]) == (
        "1000.00000000",
        "10.00000000",
        "949.50000000",
    )


def test_leverage_brackets_are_numbers_with_the_derived_floor_and_cum() -> None:
    brackets = wire.exchange_info.leverage_brackets(BTC)["brackets"]
    assert brackets[1] == {
        "bracket": 2,
        "initialLeverage": 100,
        "notionalCap": 500000,
        "notionalFloor": 50000,
        "maintMarginRatio": 0.005,
        "cum": 50,
    }


# -- market data ------------------------------------------------------------------------------


def test_ccxt_reads_the_order_book(binance: Any) -> None:
    view = DepthView(
        last_update_id=99,
        time=NOW - 3,
        bids=[(1_200_000, 1_500), (1_199_990, 2)],
        asks=[(1_200_010, 250)],
    )
    binance.fapiPublicGetDepth = answering(wire.market_data.depth(BTC, view, NOW))
    book = binance.fetch_order_book(BTC_MARKET, limit=5)
    assert book["bids"] == [[120000.0, 1.5], [119999.0, 0.002]]
    assert book["asks"] == [[120001.0, 0.25]]
    assert (book["nonce"], book["timestamp"]) == (99, NOW - 3)


def test_ccxt_reads_the_24hr_ticker(binance: Any) -> None:
    view = TickerView(
        symbol="BTCUSDT",
        last_price=1_212_000,
        open_price=1_200_000,
        high_price=1_215_000,
        low_price=1_190_000,
        volume=3_000,
        quote_volume=360_000 * 10**8,
        first_trade_id=1,
        last_trade_id=50,
        count=50,
        open_time=NOW - 86_400_000,
        close_time=NOW,
    )
    binance.fapiPublicGetTicker24hr = answering(wire.market_data.ticker_24hr(BTC, view))
    ticker = binance.fetch_ticker(BTC_MARKET)
    assert (ticker["last"], ticker["open"], ticker["high"], ticker["low"]) == (
        121200,
        120000,
        121500,
        119000,
    )
    assert (ticker["change"], ticker["percentage"], ticker["vwap"]) == (1200, 1, 120000)
    assert (ticker["baseVolume"], ticker["quoteVolume"], ticker["timestamp"]) == (3, 360000, NOW)


def test_premium_index_before_any_mark_uses_the_reference_price() -> None:
    body = wire.market_data.premium_index(BTC, MarkView("BTCUSDT", None, 0), NOW)
    assert body["markPrice"] == "122500.00"
    assert body["time"] == NOW
    assert body["nextFundingTime"] == 1_700_006_400_000


@pytest.mark.parametrize(
    ("cash", "text"),
    [(0, "0.00000000"), (1, "0.00000001"), (-1, "-0.00000001"), (-123_456_789, "-1.23456789")],
)
def test_cash_is_a_plain_eight_place_decimal_never_exponent_notation(cash: int, text: str) -> None:
    assert cash_str(cash) == text


def test_aggregate_trades_are_one_taker_orders_consecutive_fills_at_one_price() -> None:
    trades = [
        TradeView(1, 1_225_000, 2, 0, 10, False, 7),
        TradeView(2, 1_225_000, 3, 0, 10, False, 7),  # same order, same price
        TradeView(3, 1_225_010, 1, 0, 10, False, 7),  # same order, next level
        TradeView(4, 1_225_010, 1, 0, 11, True, 8),  # another order
    ]
    groups = aggregated(trades)
    assert [[t.trade_id for t in g] for g in groups] == [[1, 2], [3], [4]]
    first = agg_trade(BTC, groups[0])
    assert (first["a"], first["f"], first["l"], first["q"], first["m"]) == (1, 1, 2, "0.005", False)
