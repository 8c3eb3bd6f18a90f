"""What a trading bot calls through unmodified ccxt, on a fresh mock: a last price before any
trade, the book's top, fees, position mode and margin type, a batch with one bad order, and
public trades and klines that agree with the trades made."""

from __future__ import annotations

import time
from typing import Any

import ccxt
import pytest

from exchange_mock.accounts import AccountBook
from exchange_mock.symbols import SymbolTable
from tests.integration.conftest import Exchange, ccxt_client

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
STARTED_MS = int(time.time() * 1000)


@pytest.fixture
def client(exchange: Exchange, accounts: AccountBook) -> Any:
    return ccxt_client(exchange, accounts.traders[7])


def test_a_fresh_mock_has_a_last_price_from_genesis(client: Any) -> None:
    """First in the module: nobody has traded yet."""
    reference = float(SymbolTable.load().by_name["BTCUSDT"].reference_price)
    ticker = client.fetch_ticker(BTC)
    assert ticker["last"] == ticker["open"] == reference
    assert ticker["timestamp"] > STARTED_MS - 60_000
    prices = client.fetch_last_prices([BTC, ETH])
    assert prices[BTC]["price"] == reference
    [opening] = client.fetch_ohlcv(BTC, "1d", limit=1)
    assert opening[1] == reference
    top = client.fetch_bids_asks([BTC])[BTC]
    assert 0 < top["bid"] < top["ask"]


def test_fees_position_mode_and_margin_type_as_the_engine_keeps_them(client: Any) -> None:
    client.load_markets()
    fee = client.fetch_trading_fee(BTC)
    assert (fee["maker"], fee["taker"]) == (0.0002, 0.0005)
    assert client.fetch_position_mode(BTC)["hedged"] is False
    with pytest.raises(ccxt.BadRequest, match="not supported"):
        client.set_position_mode(True)
    # Cross is what the account has: ccxt reads Binance's -4046 as "already set".
    with pytest.raises(ccxt.MarginModeAlreadySet):
        client.set_margin_mode("cross", BTC)
    with pytest.raises(ccxt.ExchangeError, match="Multi-Assets"):
        client.set_margin_mode("isolated", BTC)


def test_a_batch_with_one_bad_order_places_the_others_and_cancels_in_a_batch(
    client: Any,
) -> None:
    client.load_markets()
    bid = client.fetch_order_book(BTC, limit=5)["bids"][0][0]
    low = round(bid * 0.95, 1)
    placed = client.create_orders(
        [
            {"symbol": BTC, "type": "limit", "side": "buy", "amount": 0.002, "price": low},
            {"symbol": BTC, "type": "limit", "side": "buy", "amount": 0.002, "price": -1},
            {"symbol": BTC, "type": "limit", "side": "buy", "amount": 0.003, "price": low},
        ]
    )
    # ccxt sorts the answer by time, and the refused slot has none: it comes first.
    [refused] = [o for o in placed if o["status"] == "rejected"]
    assert refused["info"] == {"code": -4001, "msg": refused["info"]["msg"]}
    opened = [o for o in placed if o["status"] == "open"]
    assert sorted(o["amount"] for o in opened) == [0.002, 0.003]

    cancelled = client.cancel_orders([o["id"] for o in opened], BTC)
    assert [o["status"] for o in cancelled] == ["canceled", "canceled"]


def test_public_trades_and_klines_match_the_trades_made(client: Any) -> None:
    """A market order may fill against several of the book's levels: the three orders are
    waited for by their fills, not by a count of trades."""
    client.load_markets()
    sides = ("buy", "sell", "buy")
    placed = [client.create_order(ETH, "market", side, 0.05)["id"] for side in sides]
    deadline = time.monotonic() + 10  # the read model may trail the fills a little
    while True:
        mine = client.fetch_my_trades(ETH)
        trades = client.fetch_trades(ETH)
        filled = {order: sum(t["amount"] for t in mine if t["order"] == order) for order in placed}
        if all(amount == pytest.approx(0.05) for amount in filled.values()) and {
            t["id"] for t in mine
        } <= {t["id"] for t in trades}:
            break
        assert time.monotonic() < deadline, (filled, trades)
        time.sleep(0.05)
    in_order = sorted((t["order"] for t in mine), key=placed.index)
    assert [t["order"] for t in mine] == in_order
    assert {t["order"]: t["side"] for t in mine} == dict(zip(placed, sides, strict=True))
    assert [(t["side"], t["amount"]) for t in mine] == [(t["side"], t["amount"]) for t in trades]
    assert all(t["fee"]["currency"] == "USDT" and t["fee"]["cost"] > 0 for t in mine)

    candles = client.fetch_ohlcv(ETH, "1m", since=trades[0]["timestamp"] - 60_000)
    traded = [c for c in candles if c[5]]
    assert sum(c[5] for c in traded) == pytest.approx(sum(t["amount"] for t in trades))
    assert max(c[2] for c in traded) == max(t["price"] for t in trades)
    assert min(c[3] for c in traded) == min(t["price"] for t in trades)
    assert traded[-1][4] == trades[-1]["price"]

    orders = client.fetch_orders(ETH)
    assert [o["id"] for o in orders] == placed
    assert [o["status"] for o in orders] == ["closed"] * 3
    assert [o["id"] for o in client.fetch_closed_orders(ETH)] == placed
