"""ccxt's own test suite as the conformance bar: what the runner makes of the suite's output, and
one real run of two methods against a fresh mock (one that passes, one the runner must fail)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.ccxt_suite import (
    ACCOUNTS,
    Credentials,
    Outcome,
    Runner,
    Scope,
    classify,
    conformance,
    embedded_mock,
    load_scope,
    markdown_table,
    url_overrides,
)

SCOPE = Scope(out_of_scope={"fetchDeposits": "spot wallet"}, ccxt_defects={})


def test_futures_calls_go_to_the_target_and_spot_calls_to_a_closed_port() -> None:
    urls = url_overrides("http://127.0.0.1:9001/", "http://127.0.0.1:9")

    assert urls["fapiPublic"] == "http://127.0.0.1:9001/fapi/v1"
    assert urls["fapiPrivateV2"] == "http://127.0.0.1:9001/fapi/v2"
    assert urls["fapiData"] == "http://127.0.0.1:9001/futures/data"
    assert urls["sapi"] == urls["public"] == urls["dapiPublic"] == "http://127.0.0.1:9"


def test_a_method_the_suite_finished_passes() -> None:
    output = "[INFO] TESTING            binanceusdm fetchOrderBook ([])\n"
    output += "[INFO] TESTING DONE       binanceusdm fetchOrderBook\n"

    assert classify("fetchOrderBook", 0, output, SCOPE).outcome is Outcome.PASSED


def test_a_failure_names_the_path_and_the_exception_without_the_signed_query() -> None:
    output = (
        "[INFO] TESTING            binanceusdm fetchTicker\n"
        '[TEST_FAILURE] binanceusdm fetchTicker ["BTC/USDT:USDT"]  (Last url: '
        "http://127.0.0.1:5/fapi/v1/ticker/24hr?symbol=BTCUSDT&signature=abc ) [AssertionError] "
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1, in f\n'
        "AssertionError: timestamp is impossible to be before 1230940800000\n"
        "[TEST_FAILURE] binanceusdm PUBLIC_TESTS Failed methods : fetchTicker\n"
    )

    result = classify("fetchTicker", 0, output, SCOPE)

    assert result.outcome is Outcome.FAILED
    assert result.broken
    assert result.detail.startswith("/fapi/v1/ticker/24hr: [AssertionError]")
    assert "AssertionError: timestamp is impossible" in result.detail
    assert "signature" not in result.detail


def test_a_warning_is_not_conformant_either() -> None:
    output = (
        "[TEST_WARNING] binanceusdm fetchOrders [] (Last url: http://h/fapi/v1/allOrders?x=1 ) "
        "Method could not be tested due to a repeated Network/Availability issues\n"
    )

    result = classify("fetchOrders", 0, output, SCOPE)

    assert result.outcome is Outcome.WARNED
    assert result.broken
    assert result.detail.startswith("/fapi/v1/allOrders: Method could not be tested")


def test_skips_carry_the_scopes_reason_or_ccxts() -> None:
    scoped = classify(
        "fetchDeposits", 0, "[INFO] SKIPPED_TEST       binanceusdm fetchDeposits", SCOPE
    )
    unsupported = classify("signIn", 0, "[INFO] UNSUPPORTED_TEST   binanceusdm signIn", SCOPE)

    assert (scoped.outcome, scoped.detail) == (Outcome.SKIPPED, "spot wallet")
    assert (unsupported.outcome, unsupported.broken) == (Outcome.SKIPPED, False)
    assert unsupported.detail == "ccxt: unsupported for binanceusdm"


def test_a_process_that_dies_or_hangs_fails() -> None:
    assert classify("fetchTime", 1, "Traceback ...\nKeyError: 'x'", SCOPE).outcome is Outcome.FAILED
    assert classify("fetchTime", None, "", SCOPE).detail.startswith("no answer within")
    assert classify("fetchTime", 0, "", SCOPE).outcome is Outcome.FAILED


def test_the_shipped_scope_gives_a_reason_for_every_skip() -> None:
    scope = load_scope()

    assert scope.out_of_scope
    assert all(reason.strip() for reason in scope.skipped.values())


def test_each_runner_has_its_own_tests_and_settings_beside_them(tmp_path: Path) -> None:
    runner = Runner.prepare(tmp_path / "r", "http://127.0.0.1:1", Credentials("k", "s"), {})

    settings = json.loads((tmp_path / "r" / "keys.local.json").read_text())
    assert settings["binanceusdm"]["apiKey"] == "k"
    # The suite reads its settings from three folders above its own test folder.
    tests = runner.suite / "ccxt" / "test"
    assert (tests / "../../..").resolve() == (tmp_path / "r").resolve()
    assert runner.has_test("fetchOrderBook")
    assert runner.has_test("fetchOHLCV")
    assert not runner.has_test("fetchTime")


@pytest.mark.timeout(300)
def test_a_real_run_passes_the_markets_and_a_working_method_and_fails_a_broken_one(
    tmp_path: Path,
) -> None:
    # fetchStatus is Binance's spot-side `sapi` status: with the scope not taking it out, the
    # suite's call reaches the closed port and the runner must report the method broken.
    scope = Scope(out_of_scope={}, ccxt_defects={})
    with embedded_mock(tmp_path / "exchange.log") as target:
        assert len(target.credentials) == ACCOUNTS
        results = conformance(
            target, tmp_path / "build", scope, ["fetchOrderBook", "fetchStatus"], jobs=2
        )

    outcomes = {result.method: result.outcome for result in results}
    # ccxt checks every market type binanceusdm has: futures too, the dated quarterlies.
    assert outcomes["loadMarkets"] is Outcome.PASSED
    assert outcomes["fetchOrderBook"] is Outcome.PASSED
    assert outcomes["fetchStatus"] is Outcome.FAILED
    assert (tmp_path / "build" / "logs" / "fetchOrderBook.log").exists()
    table = markdown_table(results)
    assert "| fetchOrderBook | pass |  |" in table
