"""Binance request authentication: key, signature over the raw bytes, timestamp window."""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI

from exchange_mock.api.auth import (
    AccountCall,
    api_key_only,
    authenticate,
    check_signature,
    sign,
    signed,
)
from exchange_mock.api.errors import install_error_handlers
from exchange_mock.errors import Code, ExchangeError
from tests.api.fakes import (
    ACCOUNTS,
    NOW,
    TRADER,
    FakeBus,
    FakeReads,
    key_header,
    make_context,
    signed_query,
)

VECTOR_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
VECTOR_PARAMS = (
    b"symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC"
    b"&recvWindow=5000&timestamp=1591702613943"
)
VECTOR_SIGNATURE = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"


def code_of(error: pytest.ExceptionInfo[ExchangeError]) -> int:
    return int(error.value.code)


def test_binance_public_test_vector_signs_as_documented() -> None:
    assert sign(VECTOR_SECRET, VECTOR_PARAMS) == VECTOR_SIGNATURE


def test_signature_is_checked_over_the_query_without_the_signature_parameter() -> None:
    query = VECTOR_PARAMS + b"&signature=" + VECTOR_SIGNATURE.encode()
    check_signature(VECTOR_SECRET, query, b"", VECTOR_SIGNATURE)


def test_signature_over_query_and_body_concatenates_them_without_an_ampersand() -> None:
    query, body = b"symbol=BTCUSDT&side=BUY", b"quantity=1&timestamp=1591702613943"
    check_signature(VECTOR_SECRET, query, body, sign(VECTOR_SECRET, query + body))
    with pytest.raises(ExchangeError) as error:
        check_signature(VECTOR_SECRET, query, body, sign(VECTOR_SECRET, query + b"&" + body))
    assert code_of(error) == Code.INVALID_SIGNATURE


def test_signature_is_checked_over_the_raw_percent_encoding_the_client_sent() -> None:
    raw = b"newClientOrderId=a%2Fb&timestamp=1"
    check_signature(VECTOR_SECRET, raw, b"", sign(VECTOR_SECRET, raw))
    with pytest.raises(ExchangeError):
        check_signature(
            VECTOR_SECRET, raw, b"", sign(VECTOR_SECRET, b"newClientOrderId=a/b&timestamp=1")
        )


def auth(query: str, api_key: str | None = TRADER.api_key, now: int = NOW) -> int:
    account, _params = authenticate(ACCOUNTS, api_key, query.encode(), b"", now)
    return account.id


def test_a_correctly_signed_request_acts_for_the_keys_account() -> None:
    assert auth(signed_query(TRADER, symbol="BTCUSDT")) == TRADER.id


@pytest.mark.parametrize("api_key", [None, "", "short", "x" * 63 + "!"])
def test_a_missing_or_ill_formed_api_key_is_2014(api_key: str | None) -> None:
    with pytest.raises(ExchangeError) as error:
        auth(signed_query(TRADER), api_key=api_key)
    assert (code_of(error), error.value.msg) == (-2014, "API-key format invalid.")


def test_an_unknown_api_key_is_2015() -> None:
    with pytest.raises(ExchangeError) as error:
        auth(signed_query(TRADER), api_key="a" * 64)
    assert code_of(error) == -2015
    assert error.value.msg == "Invalid API-key, IP, or permissions for action."


def test_a_signature_made_with_another_accounts_secret_is_1022() -> None:
    with pytest.raises(ExchangeError) as error:
        auth(signed_query(ACCOUNTS.traders[1], symbol="BTCUSDT"))
    assert (code_of(error), error.value.msg) == (-1022, "Signature for this request is not valid.")


def test_a_tampered_parameter_is_1022() -> None:
    query = signed_query(TRADER, quantity="1").replace("quantity=1", "quantity=9")
    with pytest.raises(ExchangeError) as error:
        auth(query)
    assert code_of(error) == -1022


@pytest.mark.parametrize(
    ("timestamp", "window", "accepted"),
    [
        (NOW + 999, None, True),
        (NOW + 1_000, None, False),
        (NOW - 5_000, None, True),
        (NOW - 5_001, None, False),
        (NOW - 10_000, 10_000, True),
        (NOW - 10_001, 10_000, False),
    ],
)
def test_timestamp_must_be_under_now_plus_1s_and_within_recv_window(
    timestamp: int, window: int | None, accepted: bool
) -> None:
    extra = {} if window is None else {"recvWindow": window}
    query = signed_query(TRADER, timestamp=timestamp, **extra)
    if accepted:
        assert auth(query) == TRADER.id
        return
    with pytest.raises(ExchangeError) as error:
        auth(query)
    assert code_of(error) == -1021
    assert error.value.msg == "Timestamp for this request is outside of the recvWindow."


def test_a_recv_window_over_a_minute_is_refused() -> None:
    with pytest.raises(ExchangeError) as error:
        auth(signed_query(TRADER, recvWindow=60_001))
    assert code_of(error) == Code.INVALID_PARAMETER


@pytest.mark.parametrize("missing", ["timestamp", "signature"])
def test_a_signed_request_without_timestamp_or_signature_is_1102(missing: str) -> None:
    query = "&".join(p for p in signed_query(TRADER).split("&") if not p.startswith(missing))
    with pytest.raises(ExchangeError) as error:
        auth(query)
    assert code_of(error) == -1102
    assert f"'{missing}'" in error.value.msg


def tiny_app() -> FastAPI:
    app = FastAPI()
    app.state.context = make_context(FakeBus(), FakeReads())
    install_error_handlers(app)

    @app.post("/signed")
    async def signed_route(call: Annotated[AccountCall, Depends(signed)]) -> dict[str, object]:
        return {"account": call.account.id, "qty": call.params.text("quantity")}

    @app.post("/keyed")
    async def keyed_route(call: Annotated[AccountCall, Depends(api_key_only)]) -> dict[str, int]:
        return {"account": call.account.id}

    return app


async def test_signed_dependency_verifies_a_form_body_over_real_http() -> None:
    body = signed_query(TRADER, quantity="0.001")
    transport = httpx.ASGITransport(app=tiny_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        ok = await http.post(
            "/signed",
            content=body,
            headers={**key_header(), "Content-Type": "application/x-www-form-urlencoded"},
        )
        forged = await http.post(
            "/signed", content=body.replace("0.001", "0.002"), headers=key_header()
        )
    assert ok.json() == {"account": TRADER.id, "qty": "0.001"}
    assert (forged.status_code, forged.json()["code"]) == (400, -1022)


async def test_api_key_only_dependency_needs_no_signature_but_a_known_key() -> None:
    transport = httpx.ASGITransport(app=tiny_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        ok = await http.post("/keyed", headers=key_header())
        unknown = await http.post("/keyed", headers={"X-MBX-APIKEY": "b" * 64})
        absent = await http.post("/keyed")
    assert ok.json() == {"account": TRADER.id}
    assert (unknown.status_code, unknown.json()["code"]) == (401, -2015)
    assert (absent.status_code, absent.json()["code"]) == (401, -2014)
