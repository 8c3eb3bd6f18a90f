"""A property-based fuzzer over the OpenAPI document of every Binance route, against a real
exchange: requests as the schema describes them, unsigned and signed with a real account's key,
must never get a 5xx, every error must be Binance's `{"code", "msg"}`, and every answer must
match the schema. The budget is bounded (examples per route and pass), so it runs in `make
test`.

The schema bounds every integer (an int64 is a Java long, as Binance's are), and schemathesis'
negative mode mutates types and formats but does not send numbers far past a bound; nor does a
random symbol get past the symbol check to the handler behind it. So a second pass sends, on
every route with integer parameters, a listed symbol and one integer past its bounds: past 64
bits either way, or hundreds of digits. That is the class of input that once reached the
engine's codec and gave a 500 (an orderId above 2**64 on a cancel)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from exchange_mock.accounts import AccountBook, ApiAccount
from exchange_mock.redis_server import EmbeddedRedis, free_port
from exchange_mock.server import exchange_process
from exchange_mock.settings import Settings
from tests.integration.conftest import exchange_settings, wait_for_books

EXAMPLES = 8
"""Generated requests per route and pass: about 400 in all, well under a minute."""
SIGNED_BY_HEADER = "X-MBX-APIKEY"
NEGATIVE = GenerationMode.NEGATIVE
"""Requests the schema forbids as well (a letter for a number, a missing symbol): the edge
must refuse them the Binance way, not crash."""
LONG_TEXT_DIGITS = 20
"""The most digits a 64-bit integer's text has: beyond it a number is refused by its length, up
to it only by its value, the check that was once missing."""
SIGNING = {"timestamp", "recvWindow"}
"""The integers every signed route takes, which the edge checks alike before any handler (and
signing sets the timestamp afresh): left out of the per-route integers."""
_ips = (f"198.18.{n // 250}.{n % 250 + 1}" for n in itertools.count())
"""A client address per request (from a trusted proxy), so no IP's rate limit is spent: the
fuzzer is to reach the handlers, which a 429 would stop short of."""


@pytest.fixture(scope="module")
def exchange(redis_server: EmbeddedRedis) -> Iterator[Settings]:
    settings = exchange_settings(
        redis_server, f"fuzz-{time.time_ns()}", port=free_port(),
        trusted_proxies=frozenset({"127.0.0.1"}),
    )  # fmt: skip
    with exchange_process(settings):
        wait_for_books(f"http://127.0.0.1:{settings.port}")
        yield settings


@schemathesis.check
def binance_shaped_errors(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every error answer is Binance's body: what clients such as ccxt read, and crash without."""
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body, dict) and set(body) == {"code", "msg"}, body
        assert isinstance(body["code"], int) and isinstance(body["msg"], str), body
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    binance_shaped_errors,
]


def out_of_range(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    """Integers an integer parameter's schema forbids by value, as text: past its bounds (an
    int64's where it states none) up to as many digits as a long's text, and far past it."""
    low, high = schema.get("minimum", -(2**63)), schema.get("maximum", 2**63 - 1)
    widest = 10**LONG_TEXT_DIGITS - 1
    return st.one_of(
        st.sampled_from([2**63, 2**64, widest, -(2**63) - 1, -(2**64), -widest]),
        st.integers(min_value=high + 1, max_value=widest),
        st.integers(min_value=-widest, max_value=low - 1),
        st.integers(min_value=LONG_TEXT_DIGITS + 1, max_value=400).map(lambda n: 10**n),
    ).map(str)


def signed(query: dict[str, Any], secret: str) -> dict[str, Any]:
    """`query` with a fresh timestamp and its signature, in the order the client sends them."""
    unsigned = {k: v for k, v in query.items() if k not in {"timestamp", "signature"}}
    unsigned["timestamp"] = int(time.time() * 1000)
    digest = hmac.new(secret.encode(), urlencode(unsigned).encode(), hashlib.sha256)
    return {**unsigned, "signature": digest.hexdigest()}


@pytest.mark.parametrize("sign", [False, True], ids=["unsigned", "signed"])
def test_no_route_answers_5xx_or_anything_but_binances_errors(
    exchange: Settings, sign: bool
) -> None:
    base_url = f"http://127.0.0.1:{exchange.port}"
    account = AccountBook.from_settings(exchange).traders[0]
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if result.ok().path.startswith("/fapi/")
    ]
    assert len(operations) >= 24

    for operation in operations:
        fuzz(operation, base_url, account if sign else None)


def test_no_integer_out_of_range_answers_5xx(exchange: Settings) -> None:
    """Every route with integer parameters of its own, signed where it takes a key so the
    request reaches its handler, with a listed symbol and one integer past its bounds: each a
    Binance error, never a 5xx."""
    base_url = f"http://127.0.0.1:{exchange.port}"
    account = AccountBook.from_settings(exchange).traders[0]
    with httpx.Client(base_url=base_url) as http:
        listed = [entry["symbol"] for entry in http.get("/fapi/v1/exchangeInfo").json()["symbols"]]
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    fuzzed = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        integers = {
            parameter.name: parameter.definition["schema"]
            for parameter in operation.query
            if parameter.definition["schema"].get("type") == "integer"
            and parameter.name not in SIGNING  # the same on every route, parsed before it
        }
        if operation.path.startswith("/fapi/") and integers:
            fuzz(operation, base_url, account, out_of_range_cases(operation, integers, listed))
            fuzzed += 1
    assert fuzzed >= 10


def out_of_range_cases(
    operation: Any, integers: dict[str, dict[str, Any]], listed: list[str]
) -> st.SearchStrategy[Any]:
    """Requests the operation's schema describes, but for a listed symbol (where it takes one,
    so the request gets past the symbol check) and one of `integers` out of range."""
    takes_symbol = any(parameter.name == "symbol" for parameter in operation.query)

    def with_query(case: Any, symbol: str, replaced: dict[str, str]) -> Any:
        case.query = {**(case.query or {}), **({"symbol": symbol} if takes_symbol else {})}
        case.query.update(replaced)
        return case

    return st.builds(
        with_query,
        operation.as_strategy(GenerationMode.POSITIVE),
        st.sampled_from(listed),
        st.sampled_from(sorted(integers)).flatmap(
            lambda name: st.fixed_dictionaries({name: out_of_range(integers[name])})
        ),
    )


def fuzz(
    operation: Any,
    base_url: str,
    account: ApiAccount | None,
    cases: st.SearchStrategy[Any] | None = None,
) -> None:
    """`EXAMPLES` requests, checked: `cases`, else those the operation's schema describes and
    forbids; signed by `account` when one is given and the route takes a key."""
    keyed = any(p.name == SIGNED_BY_HEADER for p in operation.headers)
    if cases is None:
        cases = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(NEGATIVE)

    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=cases)
    def check(case: Any) -> None:
        headers = {"X-Forwarded-For": next(_ips)}
        if account is not None and keyed:
            headers[SIGNED_BY_HEADER] = account.api_key
            if case.query is not None and "signature" in case.query:
                case.query = signed(case.query, account.secret)
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        case.validate_response(response, checks=CHECKS)

    check()


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/fapi/v1/order", "DELETE, GET, OPTIONS, POST"),
        ("/fapi/v1/listenKey", "DELETE, OPTIONS, POST, PUT"),
        ("/fapi/v1/ping", "GET, OPTIONS"),
    ],
)
def test_options_and_405_name_every_method_a_path_answers(
    exchange: Settings, path: str, allow: str
) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{exchange.port}") as http:
        options = http.options(path)
        wrong = http.patch(path)
    assert (options.status_code, options.headers["Allow"]) == (200, allow)
    assert (wrong.status_code, wrong.headers["Allow"]) == (405, allow)
    assert set(wrong.json()) == {"code", "msg"}


def test_a_path_no_route_serves_is_404_for_every_method(exchange: Settings) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{exchange.port}") as http:
        answers = [http.request(method, "/fapi/v1/nothing").status_code for method in
                   ("GET", "OPTIONS", "POST")]  # fmt: skip
    assert answers == [404, 404, 404]
