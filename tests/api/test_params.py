"""Parameters read from the raw query string and form body, with Binance's errors."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qsl

import pytest

from exchange_mock.api.params import Params
from exchange_mock.errors import Code, ExchangeError
from tests.api.fakes import SYMBOLS


def error_of(call: object) -> ExchangeError:
    assert callable(call)
    with pytest.raises(ExchangeError) as error:
        call()
    return error.value


def test_query_and_body_merge_and_the_query_wins_a_clash() -> None:
    params = Params.parse(b"symbol=BTCUSDT&side=SELL", b"side=BUY&quantity=1")
    assert (params.text("symbol"), params.text("side"), params.text("quantity")) == (
        "BTCUSDT",
        "SELL",
        "1",
    )


def test_values_are_percent_decoded() -> None:
    assert Params.parse(b"newClientOrderId=a%2Fb%3Ac").text("newClientOrderId") == "a/b:c"


@pytest.mark.parametrize(
    "raw",
    [
        b"symbol=BTCUSDT&side=BUY&timestamp=1700000000000&signature=ab12",
        b"a=1&&b=2&",
        b"flag&a=&b==c",
        b"note=a+b&x=%20y",
        b"newClientOrderId=a%2Fb%3Ac&symbol=ETHUSDT",
        b"",
    ],
)
def test_plain_and_encoded_pairs_read_as_the_standard_parser_reads_them(raw: bytes) -> None:
    """Plain pairs take a shortcut past the unquoting; it must not change what anyone reads."""
    expected = dict(parse_qsl(raw.decode(), keep_blank_values=True))
    params = Params.parse(raw)
    for name, value in expected.items():
        assert params.text(name) == (value or None), name


def test_an_empty_value_counts_as_not_sent() -> None:
    params = Params.parse(b"price=&symbol=BTCUSDT")
    assert params.text("price") is None
    assert "price" not in params
    error = error_of(lambda: params.require("price"))
    assert error.code == Code.MANDATORY_PARAM_EMPTY_OR_MALFORMED
    assert error.msg == "Mandatory parameter 'price' was not sent, was empty/null, or malformed."


def test_integers_parse_and_refuse_anything_else_with_1100() -> None:
    params = Params.parse(b"orderId=123&limit=abc&neg=-5")
    assert params.integer("orderId") == 123
    assert params.integer("neg") == -5
    assert params.integer("absent") is None
    assert error_of(lambda: params.integer("limit")).code == Code.ILLEGAL_CHARS
    assert error_of(lambda: params.require_integer("absent")).code == -1102


@pytest.mark.parametrize(
    "raw", ["9223372036854775808", "-9223372036854775809", "99999999999999999999"]
)
def test_integers_beyond_64_bits_are_1100(raw: str) -> None:
    """Binance's integers are 64-bit: a larger one is illegal, not a crash further in."""
    params = Params({"orderId": raw})
    assert error_of(lambda: params.integer("orderId")).code == Code.ILLEGAL_CHARS


def test_the_64_bit_extremes_are_integers() -> None:
    params = Params({"high": str(2**63 - 1), "low": str(-(2**63))})
    assert (params.integer("high"), params.integer("low")) == (2**63 - 1, -(2**63))


@pytest.mark.parametrize("raw", ["1e3", "NaN", "Infinity", "1.", ".5", "1,5", " 1"])
def test_decimals_refuse_notation_binance_does_not_accept(raw: str) -> None:
    params = Params({"quantity": raw})
    error = error_of(lambda: params.decimal("quantity"))
    assert error.code == Code.ILLEGAL_CHARS
    assert "'quantity'" in error.msg


def test_decimals_keep_their_sign_and_digits() -> None:
    params = Params.parse(b"quantity=-0.010&price=9000")
    assert params.decimal("quantity") == Decimal("-0.010")
    assert params.require_decimal("price") == Decimal(9000)


@pytest.mark.parametrize(("raw", "value"), [("true", True), ("FALSE", False), (None, False)])
def test_booleans_are_true_or_false_with_a_default(raw: str | None, value: bool) -> None:
    params = Params({} if raw is None else {"reduceOnly": raw})
    assert params.boolean("reduceOnly", default=False) is value


def test_a_boolean_that_is_neither_is_1130() -> None:
    params = Params({"reduceOnly": "yes"})
    error = error_of(lambda: params.boolean("reduceOnly", default=False))
    assert (error.code, error.msg) == (
        Code.INVALID_PARAMETER,
        "Data sent for parameter 'reduceOnly' is not valid.",
    )


def test_symbol_resolves_to_its_spec_or_is_1121_or_1102() -> None:
    assert Params({"symbol": "ETHUSDT"}).symbol(SYMBOLS).symbol == "ETHUSDT"
    assert Params({}).optional_symbol(SYMBOLS) is None
    unknown = error_of(lambda: Params({"symbol": "DOGEUSDT"}).symbol(SYMBOLS))
    assert (unknown.code, unknown.msg) == (Code.BAD_SYMBOL, "Invalid symbol.")
    assert error_of(lambda: Params({}).symbol(SYMBOLS)).code == -1102
