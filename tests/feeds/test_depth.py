"""The book streams from `BookChanged` events: windows coalesced per speed, ids chained, partial
books from the window's last change, book tickers only when the top moves."""

from __future__ import annotations

from typing import Any

import orjson

from exchange_mock.domain.events import BookChanged, TradeExecuted
from exchange_mock.feeds.depth import DepthBoard, Message
from exchange_mock.feeds.translator import FeedTranslator
from exchange_mock.store.keys import Keys
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import AccountId, OrderId, Side, TradeId

SYMBOLS = SymbolTable.load()
KEYS = Keys("t")
T0 = 1_700_000_000_000
"""A multiple of every window's length."""
BID, ASK = 1_224_990, 1_225_010


def change(first: int, last: int, bids: Any = (), asks: Any = (), ts: int = T0 + 10) -> BookChanged:
    best_bids = tuple(sorted(((BID, 5), *bids), reverse=True))[:20]
    best_asks = tuple(sorted(((ASK, 5), *asks)))[:20]
    return BookChanged("BTCUSDT", first, last, tuple(bids), tuple(asks), best_bids, best_asks, ts)


def by_stream(messages: list[Message]) -> dict[str, Any]:
    return {channel.removeprefix("t:feed:"): orjson.loads(body) for channel, body in messages}


def test_a_windows_changes_are_coalesced_with_the_latest_size_of_each_level() -> None:
    board = DepthBoard(KEYS, SYMBOLS)
    board.apply(change(1, 3, bids=[(BID - 10, 7)], ts=T0 + 10))
    board.apply(change(4, 4, bids=[(BID - 10, 0), (BID - 20, 2)], asks=[(ASK + 10, 1)], ts=T0 + 40))
    assert board.due(T0 + 99) == []
    assert board.next_due() == T0 + 100
    pushed = by_stream(board.due(T0 + 100))
    assert set(pushed) == {"btcusdt@depth@100ms", *(f"btcusdt@depth{n}@100ms" for n in (5, 10, 20))}
    diff = pushed["btcusdt@depth@100ms"]
    assert diff == {
        "e": "depthUpdate",
        "E": T0 + 40,
        "T": T0 + 40,
        "s": "BTCUSDT",
        "U": 1,
        "u": 4,
        "pu": 0,
        "b": [["122498.00", "0.000"], ["122497.00", "0.002"]],
        "a": [["122502.00", "0.001"]],
    }


def test_each_speed_pushes_on_its_own_beat_and_forgets_what_it_pushed() -> None:
    board = DepthBoard(KEYS, SYMBOLS)
    board.apply(change(1, 1, asks=[(ASK, 3)]))
    assert "btcusdt@depth@100ms" in by_stream(board.due(T0 + 100))
    assert board.due(T0 + 200) == [], "the 100 ms window was pushed and nothing came since"
    assert set(by_stream(board.due(T0 + 250))) >= {"btcusdt@depth", "btcusdt@depth5"}
    board.apply(change(2, 3, bids=[(BID, 1)]))
    later = by_stream(board.due(T0 + 500))
    # The 500 ms window holds both changes; the 100 ms one only the second, chained to the first.
    assert (later["btcusdt@depth@500ms"]["U"], later["btcusdt@depth@500ms"]["u"]) == (1, 3)
    assert later["btcusdt@depth@100ms"]["pu"] == 1
    assert board.next_due() is None


def test_partial_books_show_the_best_levels_after_the_windows_last_change() -> None:
    board = DepthBoard(KEYS, SYMBOLS)
    bids = [(BID - 10 * n, n) for n in range(1, 30)]
    board.apply(change(1, 1, asks=[(ASK, 3)]))
    board.apply(change(2, 2, bids=bids))
    pushed = by_stream(board.due(T0 + 100))
    five = pushed["btcusdt@depth5@100ms"]
    assert len(five["b"]) == 5 and five["b"][0] == ["122499.00", "0.005"]
    assert (five["U"], five["u"], five["pu"]) == (1, 2, 0)
    assert len(pushed["btcusdt@depth20@100ms"]["b"]) == 20


def test_the_book_ticker_goes_out_at_once_but_only_when_the_top_moves() -> None:
    board = DepthBoard(KEYS, SYMBOLS)
    first = by_stream(board.apply(change(1, 1, ts=T0 + 7)))
    assert first["btcusdt@bookTicker"] == {
        "e": "bookTicker",
        "u": 1,
        "E": T0 + 7,
        "T": T0 + 7,
        "s": "BTCUSDT",
        "b": "122499.00",
        "B": "0.005",
        "a": "122501.00",
        "A": "0.005",
    }
    assert first["!bookTicker"] == first["btcusdt@bookTicker"]
    assert board.apply(change(2, 2, bids=[(BID - 10, 4)])) == [], "below the top"
    assert by_stream(board.apply(change(3, 3, bids=[(BID + 10, 1)])))["btcusdt@bookTicker"][
        "b"
    ] == ("122500.00")


def test_a_commands_trades_go_out_as_aggregate_trades_in_binances_layout() -> None:
    feed = FeedTranslator(KEYS, SYMBOLS, 1_000)

    def trade(trade_id: int, price: int, maker: int) -> TradeExecuted:
        return TradeExecuted(
            "BTCUSDT", TradeId(trade_id), price, 2, Side.BUY, OrderId(9), OrderId(maker),
            AccountId(1), AccountId(2), T0 + trade_id,
        )  # fmt: skip

    for event in (trade(1, ASK, 3), trade(2, ASK, 4), trade(3, ASK + 10, 5)):
        assert feed.apply(b"1-0", event) == []
    pushed = [
        orjson.loads(body) for channel, body in feed.end_group() if channel.endswith("@aggTrade")
    ]
    assert pushed == [
        {"e": "aggTrade", "E": T0 + 2, "s": "BTCUSDT", "a": 1, "p": "122501.00", "q": "0.004",
         "f": 1, "l": 2, "T": T0 + 1, "m": False},
        {"e": "aggTrade", "E": T0 + 3, "s": "BTCUSDT", "a": 3, "p": "122502.00", "q": "0.002",
         "f": 3, "l": 3, "T": T0 + 3, "m": False},
    ]  # fmt: skip
