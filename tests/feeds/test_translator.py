"""Journal events to channel messages: mark price streams, forceOrder snapshots, user data."""

from __future__ import annotations

from typing import Any

import orjson

from exchange_mock.domain.events import LeverageChanged, MarkPriceUpdated, PositionLiquidated
from exchange_mock.feeds.depth import Message
from exchange_mock.feeds.translator import FeedTranslator
from exchange_mock.store.keys import Keys
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import AccountId, Side

SYMBOLS = SymbolTable.load()
KEYS = Keys("t")
T0 = 1_700_000_000_000
"""A whole second one before a multiple of three seconds."""


def decoded(messages: list[Message]) -> list[tuple[str, Any]]:
    return [(channel, orjson.loads(body)) for channel, body in messages]


def test_mark_updates_go_out_on_the_beat_with_the_journal_time_as_E() -> None:
    feed = FeedTranslator(KEYS, SYMBOLS, 1_000)
    mark = MarkPriceUpdated("BTCUSDT", 1_225_005, T0 - 300, index=1_224_990, funding_rate=10_000)
    assert feed.apply(b"1", mark) == []
    assert feed.apply(b"2", MarkPriceUpdated("ETHUSDT", 45_001_234, T0 - 200)) == []
    # A mark also lists its contract: its tickers and kline beat too, left to their own tests.
    first = {c: body for c, body in decoded(feed.due(T0)) if "markPrice" in c}
    assert set(first) == {
        "t:feed:btcusdt@markPrice@1s",
        "t:feed:ethusdt@markPrice@1s",
        "t:feed:!markPrice@arr@1s",
    }
    assert first["t:feed:btcusdt@markPrice@1s"] == {
        "e": "markPriceUpdate",
        "E": T0 - 300,
        "s": "BTCUSDT",
        "p": "122500.50000000",
        "i": "122499.00000000",
        "P": "122499.00000000",
        "r": "0.00010000",
        "T": 1_700_006_400_000,
    }
    assert [u["s"] for u in first["t:feed:!markPrice@arr@1s"]] == ["BTCUSDT", "ETHUSDT"]
    assert feed.due(T0 + 999) == []
    assert feed.next_due(T0 + 999) == T0 + 1_000
    third_second = dict(decoded(feed.due(T0 + 1_000)))
    assert "t:feed:btcusdt@markPrice" in third_second
    assert "t:feed:!markPrice@arr" in third_second
    assert third_second["t:feed:btcusdt@markPrice"] == first["t:feed:btcusdt@markPrice@1s"]


def test_user_data_of_a_command_goes_out_when_the_next_command_begins() -> None:
    feed = FeedTranslator(KEYS, SYMBOLS, 1_000)
    first = LeverageChanged(AccountId(3), "BTCUSDT", 5, T0)
    second = LeverageChanged(AccountId(4), "BTCUSDT", 6, T0)
    assert feed.apply(b"1-0", first) == []
    released = decoded(feed.apply(b"2-0", second))
    assert [(c, m["ac"]["l"]) for c, m in released] == [("t:userfeed:3", 5)]
    assert [(c, m["ac"]["l"]) for c, m in decoded(feed.end_group())] == [("t:userfeed:4", 6)]
    assert feed.end_group() == []


def liquidated(time: int, qty: int, deleveraged: int = 0) -> PositionLiquidated:
    """A long of `qty` lots closed by a SELL at 120000.0: `qty - deleveraged` of them filled in
    the book at 119999.0, the rest auto-deleveraged at 120000.0."""
    filled = qty - deleveraged
    return PositionLiquidated(
        account=AccountId(9),
        symbol="BTCUSDT",
        side=Side.SELL,
        qty=qty,
        price=1_200_000,
        filled=filled,
        cum_quote=filled * 1_199_990 * 10_000,
        deleveraged=deleveraged,
        notional=0,
        mark=1_200_500,
        ts=time,
    )


def force_orders(messages: list[Message]) -> list[tuple[str, Any]]:
    return [(c, m) for c, m in decoded(messages) if "forceOrder" in c]


def test_liquidations_reach_both_force_order_streams_one_per_symbol_per_window() -> None:
    feed = FeedTranslator(KEYS, SYMBOLS, 1_000)
    for i in range(5):
        assert force_orders(feed.apply(f"{i}-0".encode(), liquidated(T0 + 100 + i, i + 1))) == []
    assert feed.next_due(T0 + 200) == T0 + 1_000
    pushed = force_orders(feed.due(T0 + 1_000))
    assert [c for c, _ in pushed] == ["t:feed:btcusdt@forceOrder", "t:feed:!forceOrder@arr"]
    assert (
        pushed[0][1]
        == pushed[1][1]
        == {
            "e": "forceOrder",
            "E": T0 + 104,
            "o": {
                "s": "BTCUSDT",
                "S": "SELL",
                "o": "LIMIT",
                "f": "IOC",
                "q": "0.005",
                "p": "120000.00",
                "ap": "119999.00000000",
                "X": "FILLED",
                "l": "0.005",
                "z": "0.005",
                "T": T0 + 104,
            },
        }
    )
    assert (feed.throttle.truth["BTCUSDT"], feed.throttle.pushed["BTCUSDT"]) == (5, 1)


def test_a_partly_deleveraged_liquidation_shows_filled_in_full_at_the_blended_price() -> None:
    feed = FeedTranslator(KEYS, SYMBOLS, 1_000)
    feed.apply(b"1-0", liquidated(T0 + 1, qty=4, deleveraged=3))
    ((_channel, pushed), *_rest) = force_orders(feed.due(T0 + 1_000))
    assert (pushed["o"]["q"], pushed["o"]["z"], pushed["o"]["l"]) == ("0.004", "0.004", "0.004")
    assert pushed["o"]["ap"] == "119999.75000000"


def test_the_mark_streams_announce_the_configured_funding_time() -> None:
    """A run compressing time settles funding every minute: `T` is the end of the minute."""
    feed = FeedTranslator(KEYS, SYMBOLS, 1_000, funding_interval_ms=60_000)
    feed.apply(b"1", MarkPriceUpdated("BTCUSDT", 1_225_005, T0 + 500))
    update = dict(decoded(feed.due(T0 + 1_000)))["t:feed:btcusdt@markPrice@1s"]
    assert update["T"] == (T0 + 500) // 60_000 * 60_000 + 60_000


def test_a_dated_contracts_mark_stream_shows_no_funding() -> None:
    listed = SYMBOLS.listed(SYMBOLS.deliveries(T0))
    [dated, *_] = [spec.symbol for spec in listed.symbols if not spec.funds]
    feed = FeedTranslator(KEYS, listed, 1_000)
    feed.apply(b"1", MarkPriceUpdated(dated, 1_226_000, T0 - 300, index=1_224_990))

    update = dict(decoded(feed.due(T0)))[f"t:feed:{dated.lower()}@markPrice@1s"]

    assert (update["s"], update["r"], update["T"]) == (dated, "0.00000000", 0)
    assert update["i"] == "122499.00000000"
