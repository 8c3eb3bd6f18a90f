"""Stream names: built as Binance names them, normalized so either case of a symbol is one
subscription, and validated to what can be spliced into JSON unescaped."""

from __future__ import annotations

import pytest

from exchange_mock.feeds import streams


def test_names_are_built_as_binance_names_them() -> None:
    assert streams.mark_price("BTCUSDT", fast=False) == "btcusdt@markPrice"
    assert streams.mark_price("BTCUSDT", fast=True) == "btcusdt@markPrice@1s"
    assert streams.all_mark_prices(fast=True) == "!markPrice@arr@1s"
    assert streams.force_order("ETHUSDT") == "ethusdt@forceOrder"
    assert streams.depth("BTCUSDT", 100) == "btcusdt@depth@100ms"
    assert streams.depth("BTCUSDT", 250) == "btcusdt@depth"
    assert streams.depth("BTCUSDT", 500, 20) == "btcusdt@depth20@500ms"
    assert streams.depth("BTCUSDT", 250, 5) == "btcusdt@depth5"
    assert streams.book_ticker("ETHUSDT") == "ethusdt@bookTicker"
    assert streams.agg_trade("ETHUSDT") == "ethusdt@aggTrade"


def test_every_book_and_trade_stream_of_every_symbol_is_produced() -> None:
    produced = streams.produced(["BTCUSDT"])
    depths = {
        f"btcusdt@depth{n}{s}" for n in ("", "5", "10", "20") for s in ("", "@100ms", "@500ms")
    }
    assert depths <= produced
    assert {"btcusdt@bookTicker", "!bookTicker", "btcusdt@aggTrade"} <= produced
    assert "btcusdt@depth7" not in produced and "btcusdt@depth@1000ms" not in produced


@pytest.mark.parametrize(
    ("sent", "normalized"),
    [
        ("BTCUSDT@markPrice@1s", "btcusdt@markPrice@1s"),
        ("btcusdt@forceOrder", "btcusdt@forceOrder"),
        ("!forceOrder@arr", "!forceOrder@arr"),
        ("AbC123listenKey", "AbC123listenKey"),
    ],
)
def test_only_the_symbol_part_is_lower_cased(sent: str, normalized: str) -> None:
    assert streams.normalize(sent) == normalized


def test_listen_keys_are_told_from_market_streams() -> None:
    assert streams.is_market("btcusdt@markPrice")
    assert streams.is_market("!markPrice@arr")
    assert not streams.is_market("a" * 64)


@pytest.mark.parametrize("name", ["", "btc usdt@markPrice", 'x"@y', "a\\b", "é@x", "a" * 201])
def test_names_that_could_break_the_json_wrapping_are_invalid(name: str) -> None:
    assert not streams.is_valid(name)
