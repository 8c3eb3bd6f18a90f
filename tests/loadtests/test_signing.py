from __future__ import annotations

from urllib.parse import parse_qsl

from loadtests.users.signing import encode, signature, signed_query

# Binance's published example (USDⓈ-M Futures docs, "SIGNED Endpoint Examples").
SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
PARAMS = (
    ("symbol", "BTCUSDT"),
    ("side", "BUY"),
    ("type", "LIMIT"),
    ("quantity", "1"),
    ("price", "9000"),
    ("timeInForce", "GTC"),
)
EXPECTED = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"


def test_signature_matches_binances_test_vector() -> None:
    payload = (
        "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC"
        "&recvWindow=5000&timestamp=1591702613943"
    )
    assert signature(SECRET, payload) == EXPECTED


def test_the_signed_query_is_exactly_the_string_that_was_signed() -> None:
    query = signed_query(encode(PARAMS), SECRET, timestamp_ms=1591702613943, recv_window_ms=5000)
    signed, _, sig = query.rpartition("&signature=")
    assert sig == EXPECTED
    assert signature(SECRET, signed) == sig
    assert signed.endswith("&recvWindow=5000&timestamp=1591702613943")


def test_values_are_url_encoded_before_signing() -> None:
    query = signed_query(encode([("newClientOrderId", "a b/c")]), SECRET, timestamp_ms=1)
    signed, _, sig = query.rpartition("&signature=")
    assert signed.startswith("newClientOrderId=a+b%2Fc&")
    assert signature(SECRET, signed) == sig
    assert dict(parse_qsl(signed))["newClientOrderId"] == "a b/c"


def test_a_call_without_parameters_signs_the_stamp_alone() -> None:
    query = signed_query("", SECRET, timestamp_ms=7, recv_window_ms=5000)
    signed, _, sig = query.rpartition("&signature=")
    assert signed == "recvWindow=5000&timestamp=7"
    assert signature(SECRET, signed) == sig
