from __future__ import annotations

import random

import pytest

from loadtests.metrics import Outcome
from loadtests.users.retry import RETRYABLE, Holds, RetryMode, RetryPolicy, parse_retry_after

RNG = random.Random(1)


@pytest.mark.parametrize("outcome", [Outcome.SUCCESS, Outcome.REJECTED, Outcome.OTHER])
def test_no_policy_retries_what_a_retry_cannot_fix(outcome: Outcome) -> None:
    for mode in RetryMode:
        assert RetryPolicy(mode).delay(1, outcome, 1.0, RNG) is None


def test_none_gives_up_at_once() -> None:
    assert RetryPolicy(RetryMode.NONE).delay(1, Outcome.RATE_LIMITED_429, 1.0, RNG) is None


def test_immediate_retries_without_waiting_up_to_the_attempt_limit() -> None:
    policy = RetryPolicy(RetryMode.IMMEDIATE, max_attempts=3)
    assert policy.delay(1, Outcome.UNAVAILABLE_503, None, RNG) == 0
    assert policy.delay(2, Outcome.UNAVAILABLE_503, None, RNG) == 0
    assert policy.delay(3, Outcome.UNAVAILABLE_503, None, RNG) is None


def test_backoff_waits_a_jittered_doubling_capped_time() -> None:
    policy = RetryPolicy(RetryMode.BACKOFF, max_attempts=20, base_delay_s=0.1, max_delay_s=1.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (9, 1.0)]:
        waits = [policy.delay(attempt, Outcome.CONNECTION_ERROR, None, rng) for _ in range(200)]
        assert all(w is not None and 0 <= w <= ceiling for w in waits)
        assert max(w for w in waits if w is not None) > ceiling * 0.8


def test_retry_after_waits_as_told_and_backs_off_without_a_header() -> None:
    policy = RetryPolicy(RetryMode.RETRY_AFTER, base_delay_s=0.1)
    assert policy.delay(1, Outcome.RATE_LIMITED_429, 3.0, RNG) == 3.0
    wait = policy.delay(1, Outcome.UNAVAILABLE_503, None, RNG)
    assert wait is not None and 0 <= wait <= 0.1


def test_retry_after_gives_up_rather_than_sit_out_a_long_ban() -> None:
    policy = RetryPolicy(RetryMode.RETRY_AFTER, longest_retry_after_s=60)
    assert policy.delay(1, Outcome.BANNED_418, 120.0, RNG) is None


def test_orders_of_unknown_fate_are_retried_as_aggressive_clients_do() -> None:
    assert {Outcome.TIMEOUT_408, Outcome.UNAVAILABLE_503_UNKNOWN} <= RETRYABLE


def test_a_request_that_outlived_its_recv_window_is_retried_signed_afresh() -> None:
    # -1021 is a refusal before execution, not a verdict on the request: the next attempt
    # carries a new timestamp, so it is as retryable as a 503.
    policy = RetryPolicy(RetryMode.IMMEDIATE)
    assert policy.delay(1, Outcome.EXPIRED_1021, None, RNG) == 0


@pytest.mark.parametrize(
    ("header", "seconds"), [("7", 7.0), ("0.5", 0.5), ("-3", 0.0), (None, None), ("soon", None)]
)
def test_retry_after_header(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_a_client_honouring_retry_after_holds_all_its_requests_until_then() -> None:
    holds = Holds(RetryPolicy(RetryMode.RETRY_AFTER, longest_retry_after_s=60))
    holds.told("198.18.0.1", 100.0, 2.0)
    assert holds.wait("198.18.0.1", 101.5) == 0.5
    assert holds.wait("198.18.0.2", 101.5) == 0
    holds.told("198.18.0.1", 101.0, 0.5)
    assert holds.wait("198.18.0.1", 101.0) == 1.0
    holds.told("198.18.0.1", 101.0, 120.0)
    assert holds.wait("198.18.0.1", 102.5) == 0


@pytest.mark.parametrize("mode", [RetryMode.NONE, RetryMode.IMMEDIATE, RetryMode.BACKOFF])
def test_only_retry_after_clients_hold(mode: RetryMode) -> None:
    holds = Holds(RetryPolicy(mode))
    holds.told(None, 100.0, 5.0)
    assert holds.wait(None, 100.0) == 0
