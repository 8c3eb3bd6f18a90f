"""Fault values: what each kind accepts, and faults given in the settings."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from exchange_mock.faults.kinds import NO_FAULTS, FaultKind, FixedFaults, check
from exchange_mock.settings import Settings


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (FaultKind.ENGINE_DELAY_MS, 0),
        (FaultKind.ENGINE_DELAY_MS, 2_500.5),
        (FaultKind.UNAVAILABLE_PCT, 100),
        (FaultKind.ENGINE_PAUSED, 1),
        (FaultKind.PROJECTOR_PAUSED, 0),
    ],
)
def test_values_a_kind_accepts(kind: FaultKind, value: float) -> None:
    assert check(kind, value) == value


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (FaultKind.ENGINE_DELAY_MS, -1),
        (FaultKind.API_DELAY_MS, math.inf),
        (FaultKind.API_DELAY_MS, math.nan),
        (FaultKind.UNKNOWN_ERROR_PCT, 100.5),
        (FaultKind.ENGINE_PAUSED, 0.5),
        (FaultKind.PROJECTOR_PAUSED, 2),
    ],
)
def test_values_a_kind_refuses(kind: FaultKind, value: float) -> None:
    with pytest.raises(ValueError, match=kind.value):
        check(kind, value)


def test_the_harness_profiles_kinds_exist() -> None:
    profile_kinds = {"unavailable_pct", "engine_delay_ms", "projector_delay_ms", "feed_delay_ms"}
    assert profile_kinds <= {kind.value for kind in FaultKind}


def test_a_fault_not_set_reads_as_off() -> None:
    assert NO_FAULTS.value(FaultKind.FEED_DELAY_MS) == 0
    assert FixedFaults({FaultKind.FEED_DELAY_MS: 40}).value(FaultKind.FEED_DELAY_MS) == 40


def test_settings_take_initial_faults_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAMPEDE_FAULTS", '{"engine_delay_ms": 200, "unavailable_pct": 5}')

    assert Settings().faults == {FaultKind.ENGINE_DELAY_MS: 200, FaultKind.UNAVAILABLE_PCT: 5}


@pytest.mark.parametrize("faults", [{"engine_paused": 3}, {"no_such_fault": 1}])
def test_settings_refuse_faults_that_cannot_be_meant(faults: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        Settings(faults=faults)
