from __future__ import annotations

import json
import logging
from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest

from loadtests.driver import (
    DEPTH,
    FAULTS,
    ORACLE,
    OUTAGE,
    SHOCK,
    TOKEN_HEADER,
    Driver,
    Status,
    fetch_audit,
    operator_client,
    operator_request,
)
from loadtests.profiles import (
    CrashedRole,
    DepthWithdrawal,
    Fault,
    FaultKind,
    OracleMode,
    OracleSource,
    PerClass,
    Phase,
    PriceShock,
    Profile,
    RedisOutage,
    RedisRestart,
    RoleCrash,
    Timeline,
)

ONE = PerClass(orders=1, queries=1, market_data=1)
Seen = list[tuple[str, str, dict[str, object]]]


def _timeline() -> Timeline:
    return Profile(
        name="t",
        description="",
        baseline=ONE,
        phases=(
            Phase(name="calm", duration_s=10, multipliers=ONE,
                  events=(OracleMode(mode=OracleSource.SPOT),)),
            Phase(name="quiet", duration_s=5, multipliers=ONE),
            Phase(name="crash", duration_s=10, multipliers=ONE, events=(
                PriceShock(symbol="BTCUSDT", pct=-9),
                DepthWithdrawal(pct=90),
                Fault(kind=FaultKind.ENGINE_DELAY_MS, value=250),
            )),
        ),
    ).timeline()  # fmt: skip


def _client(seen: Seen, answer: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path, json.loads(request.content or b"{}")))
        return answer(request)

    return httpx.Client(base_url="http://target", transport=httpx.MockTransport(handle))


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_each_event_becomes_its_operator_request() -> None:
    assert operator_request(Fault(kind=FaultKind.UNAVAILABLE_PCT, value=20)) == (
        "PUT", FAULTS, {"kind": "unavailable_pct", "value": 20},
    )  # fmt: skip
    assert operator_request(PriceShock(symbol="ETHUSDT", pct=-6, venue="okx")) == (
        "POST", SHOCK, {"symbol": "ETHUSDT", "pct": -6, "venue": "okx"},
    )  # fmt: skip
    assert operator_request(PriceShock(symbol="BTCUSDT", notional=Decimal("-60e6"))) == (
        "POST", SHOCK, {"symbol": "BTCUSDT", "notional": "-60000000"},
    )  # fmt: skip
    assert operator_request(DepthWithdrawal(pct=60)) == ("PUT", DEPTH, {"pct": 60})
    assert operator_request(RedisOutage(seconds=5)) == (
        "POST",
        OUTAGE,
        {"kind": "redis_outage", "seconds": 5},
    )
    assert operator_request(RedisRestart(seconds=2)) == (
        "POST", OUTAGE, {"kind": "redis_restart", "seconds": 2},
    )  # fmt: skip
    assert operator_request(RoleCrash(role=CrashedRole.PROJECTOR)) == (
        "POST", OUTAGE, {"kind": "role_crash", "role": "projector"},
    )  # fmt: skip
    assert operator_request(OracleMode(mode=OracleSource.INDEX)) == (
        "PUT", ORACLE, {"mode": "index"},
    )  # fmt: skip


def test_events_are_applied_at_their_phase_start_in_order() -> None:
    seen: Seen = []
    clock = FakeClock()
    http = _client(seen, lambda request: httpx.Response(200, json={}))
    driver = Driver(http, _timeline(), origin=clock.now, clock=clock, sleep=clock.sleep)
    driver.run()
    assert clock.sleeps == [15.0]
    assert [(method, path) for method, path, _ in seen] == [
        ("PUT", ORACLE), ("POST", SHOCK), ("PUT", DEPTH), ("PUT", FAULTS),
    ]  # fmt: skip
    assert [applied.step for applied in driver.history] == ["calm", "crash", "crash", "crash"]
    assert all(applied.status is Status.APPLIED for applied in driver.history)
    # When each was in force, in run seconds: what the report times a recovery from.
    assert [applied.at for applied in driver.history] == [0.0, 15.0, 15.0, 15.0]


def test_faults_the_run_injected_are_cleared_at_the_end() -> None:
    seen: Seen = []
    clock = FakeClock()
    http = _client(seen, lambda request: httpx.Response(200, json={}))
    driver = Driver(http, _timeline(), origin=clock.now, clock=clock, sleep=clock.sleep)
    driver.run()
    seen.clear()
    cleared = driver.clear_faults()
    assert seen == [("PUT", FAULTS, {"kind": "engine_delay_ms", "value": 0.0})]
    assert [applied.status for applied in cleared] == [Status.APPLIED]
    assert driver.clear_faults() == []


@pytest.mark.parametrize("status", [404, 405])
def test_a_target_without_an_endpoint_is_skipped_with_one_warning(
    status: int, caplog: pytest.LogCaptureFixture
) -> None:
    seen: Seen = []
    http = _client(
        seen,
        lambda request: httpx.Response(
            status if request.url.path == SHOCK else 200, json={"code": -1000, "msg": "x"}
        ),
    )
    driver = Driver(http, _timeline(), origin=0, clock=lambda: 1e9)
    with caplog.at_level(logging.WARNING, logger="loadtests.driver"):
        for _ in range(3):
            driver.apply("crash", PriceShock(symbol="BTCUSDT", pct=-1))
        applied = driver.apply("crash", DepthWithdrawal(pct=10))
    assert [path for _, path, _ in seen] == [SHOCK, DEPTH]
    assert applied.status is Status.APPLIED
    assert len([r for r in caplog.records if SHOCK in r.getMessage()]) == 1


def test_a_refused_connection_skips_too(caplog: pytest.LogCaptureFixture) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    driver = Driver(_client([], refuse), _timeline(), origin=0, clock=lambda: 1e9)
    with caplog.at_level(logging.WARNING, logger="loadtests.driver"):
        applied = driver.apply("calm", Fault(kind=FaultKind.UNAVAILABLE_PCT, value=5))
    assert applied.status is Status.SKIPPED
    assert "no operator endpoint" in caplog.text
    assert driver.clear_faults() == []


def test_a_refusal_by_an_endpoint_that_exists_is_a_failure_not_a_skip() -> None:
    http = _client([], lambda request: httpx.Response(400, json={"code": -1130, "msg": "bad"}))
    driver = Driver(http, _timeline(), origin=0)
    applied = driver.apply("calm", Fault(kind=FaultKind.UNAVAILABLE_PCT, value=5))
    assert applied.status is Status.FAILED and "bad" in applied.detail


def test_the_operator_token_is_sent_when_given() -> None:
    assert operator_client("http://h", "secret").headers[TOKEN_HEADER] == "secret"
    assert TOKEN_HEADER not in operator_client("http://h", None).headers


def test_the_audit_is_read_once_the_target_is_quiet() -> None:
    answers = iter([{"quiet": False, "passed": False}] * 2 + [{"quiet": True, "passed": True}])
    http = _client([], lambda request: httpx.Response(200, json=next(answers)))
    clock = FakeClock()
    audit = fetch_audit(http, clock=clock, sleep=clock.sleep)
    assert audit == {"quiet": True, "passed": True}
    assert len(clock.sleeps) == 2


def test_the_audit_gives_up_waiting_and_returns_the_last_one() -> None:
    http = _client([], lambda request: httpx.Response(200, json={"quiet": False}))
    clock = FakeClock()
    assert fetch_audit(http, wait_s=1, interval_s=0.25, clock=clock, sleep=clock.sleep) == {
        "quiet": False
    }
    assert len(clock.sleeps) == 4


def test_a_target_without_an_audit_has_none() -> None:
    http = _client([], lambda request: httpx.Response(404, json={"code": -1000, "msg": "x"}))
    assert fetch_audit(http) is None
