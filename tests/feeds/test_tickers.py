"""The trade-driven streams: the minute's kline while it changes and once closed, the tickers
on their beats with only the symbols that changed, carried on from the read model's figures."""

from __future__ import annotations

from typing import Any

import orjson

from exchange_mock.feeds.depth import Message
from exchange_mock.feeds.tickers import TradeBoard
from exchange_mock.store.keys import Keys
from exchange_mock.store.views import BarView, TradeView
from exchange_mock.symbols import SymbolTable

SYMBOLS = SymbolTable.load()
BTC = SYMBOLS.by_name["BTCUSDT"]
KEYS = Keys("t")
T0 = 1_700_000_040_000
"""The start of a minute (and a multiple of every beat)."""


def trade(trade_id: int, price: int, qty: int, time: int, buyer_took: bool = True) -> TradeView:
    return TradeView(
        trade_id, price, qty, BTC.notional(price, qty), time, not buyer_took, 100 + trade_id
    )


def by_stream(messages: list[Message]) -> dict[str, Any]:
    return {channel.removeprefix("t:feed:"): orjson.loads(body) for channel, body in messages}


def test_the_minutes_kline_goes_out_on_its_beat_in_binances_layout() -> None:
    board = TradeBoard(KEYS, SYMBOLS)
    assert board.add("BTCUSDT", trade(7, 1_225_000, 2, T0 + 10)) == []
    assert board.add("BTCUSDT", trade(8, 1_225_100, 3, T0 + 20, buyer_took=False)) == []
    assert board.next_due(T0 + 100) == T0 + 250
    kline = by_stream(board.due(T0 + 250))["btcusdt@kline_1m"]
    assert kline == {
        "e": "kline",
        "E": T0 + 20,
        "s": "BTCUSDT",
        "k": {
            "t": T0, "T": T0 + 59_999, "s": "BTCUSDT", "i": "1m", "f": 7, "L": 8,
            "o": "122500.00", "c": "122510.00", "h": "122510.00", "l": "122500.00",
            "v": "0.005", "n": 2, "x": False, "q": "612.53000000", "V": "0.002",
            "Q": "245.00000000", "B": "0",
        },
    }  # fmt: skip
    assert "btcusdt@kline_1m" not in by_stream(board.due(T0 + 500)), "nothing changed since"


def test_a_bar_is_pushed_closed_once_when_its_minute_ends_or_the_next_one_trades() -> None:
    board = TradeBoard(KEYS, SYMBOLS)
    board.add("BTCUSDT", trade(1, 1_225_000, 1, T0 + 10))
    closed, current = [
        orjson.loads(body) for channel, body in board.due(T0 + 60_000) if "kline" in channel
    ]
    assert closed["k"]["x"] is True and closed["E"] == T0 + 60_000
    # The 2 s beat then shows the new minute, flat at the close, no trade in it yet.
    assert (current["k"]["t"], current["k"]["x"], current["k"]["n"]) == (T0 + 60_000, False, 0)
    assert current["k"]["o"] == current["k"]["c"] == closed["k"]["c"]
    assert not by_stream(board.due(T0 + 120_000))["btcusdt@kline_1m"]["k"]["x"], "closed once"
    board.add("BTCUSDT", trade(2, 1_225_000, 1, T0 + 120_010))
    [(channel, body)] = board.add("BTCUSDT", trade(3, 1_225_000, 1, T0 + 180_005))
    ended = orjson.loads(body)
    assert channel.endswith("@kline_1m") and ended["k"]["x"] and ended["k"]["t"] == T0 + 120_000


def test_tickers_carry_on_from_the_read_model_and_push_only_changed_symbols() -> None:
    board = TradeBoard(KEYS, SYMBOLS)
    board.load(
        {
            "BTCUSDT": {
                "last": 1_224_000, "open": 1_220_000, "high": 1_226_000, "low": 1_219_000,
                "volume": 10, "quote_volume": BTC.notional(1_222_000, 10), "first_id": 1,
                "last_id": 6, "count": 6, "open_time": T0 - 1_000, "close_time": T0 - 500,
            },
            "ETHUSDT": {},
        },
        {"BTCUSDT": BarView.flat(T0, 1_224_000)},
    )  # fmt: skip
    board.add("BTCUSDT", trade(7, 1_230_000, 2, T0 + 10))
    every_second = by_stream(board.due(T0 + 1_000))
    [ticker] = every_second["!ticker@arr"]
    assert ticker == {
        "e": "24hrTicker", "E": T0 + 10, "s": "BTCUSDT", "p": "1000.00", "P": "0.820",
        "w": "122333.33333333", "c": "123000.00", "Q": "0.002", "o": "122000.00",
        "h": "123000.00", "l": "121900.00", "v": "0.012", "q": "1468.00000000",
        "O": T0 - 1_000, "C": T0 + 10, "F": 1, "L": 7, "n": 7,
    }  # fmt: skip
    assert every_second["!miniTicker@arr"] == [
        {
            "e": "24hrMiniTicker", "E": T0 + 10, "s": "BTCUSDT", "c": "123000.00",
            "o": "122000.00", "h": "123000.00", "l": "121900.00", "v": "0.012",
            "q": "1468.00000000",
        }
    ]  # fmt: skip
    # The first beat goes out at once; after it, each on its own period.
    assert every_second["btcusdt@ticker"] == ticker
    assert "ethusdt@ticker" not in every_second
    board.add("BTCUSDT", trade(8, 1_231_000, 1, T0 + 1_500))
    assert not {"!ticker@arr", "btcusdt@ticker"} & set(by_stream(board.due(T0 + 1_999)))
    every_two = by_stream(board.due(T0 + 2_000))
    assert every_two["btcusdt@ticker"]["c"] == every_two["!ticker@arr"][0]["c"] == "123100.00"
    assert every_two["btcusdt@miniTicker"]["c"] == "123100.00"
    assert by_stream(board.due(T0 + 3_000)) == {}, "nothing changed since"
    # Each symbol's own ticker beats on, changed or not: a quiet market is still heard from.
    quiet = by_stream(board.due(T0 + 4_000))
    assert set(quiet) == {"btcusdt@ticker", "btcusdt@miniTicker", "btcusdt@kline_1m"}
    assert quiet["btcusdt@ticker"] == every_two["btcusdt@ticker"]
    # The loaded bar carried a quiet minute's price: the trade opened the kline afresh.
    assert board.bars["BTCUSDT"].bar.open == 1_230_000


def test_a_listed_contract_has_a_ticker_before_its_first_trade() -> None:
    board = TradeBoard(KEYS, SYMBOLS)
    board.open("ETHUSDT", 435_000, T0)
    board.open("ETHUSDT", 999_999, T0 + 5)  # a later mark: the listing price stays
    ticker = by_stream(board.due(T0 + 2_000))["ethusdt@ticker"]
    assert (ticker["c"], ticker["o"], ticker["v"], ticker["n"]) == (
        "4350.00",
        "4350.00",
        "0.000",
        0,
    )
