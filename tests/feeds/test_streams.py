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
