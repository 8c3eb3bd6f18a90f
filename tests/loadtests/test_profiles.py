from __future__ import annotations

import math
from pathlib import Path

import pytest

from loadtests.profiles import (
    DepthWithdrawal,
    PerClass,
    PriceShock,
    Profile,
    ProfileError,
    RequestClass,
    dump_profile,
    load_profile,
    parse_profile,
    shipped_profiles,
)

MINIMAL = """
name: tiny
description: two phases
time_scale: 2
baseline: {orders: 10, queries: 4, market_data: 2}
phases:
  - name: calm
    duration_s: 100
    multipliers: {orders: 1, queries: 1, market_data: 1}
  - name: surge
    duration_s: 200
    ramp_s: 100
    multipliers: {orders: 11, queries: 101, market_data: 1}
"""


def _with(replace: str, by: str) -> str:
    assert replace in MINIMAL
    return MINIMAL.replace(replace, by)


def test_the_four_documented_profiles_ship() -> None:
    assert set(shipped_profiles()) >= {"oct-2025", "may-2021", "mar-2020", "step-ramp"}


@pytest.mark.parametrize("name", shipped_profiles())
def test_every_shipped_profile_validates_and_survives_a_dump(name: str) -> None:
    profile = load_profile(name)
    assert profile.name == name
    assert profile.timeline().duration > 0
    assert parse_profile(dump_profile(profile)) == profile


def test_oct_2025_peaks_at_100x_orders_and_1000x_queries_for_one_minute() -> None:
    profile = load_profile("oct-2025")
    peak = max(profile.phases, key=lambda phase: phase.multipliers.orders)
    assert peak.multipliers.orders == 100
    assert peak.multipliers.queries == 1000
    assert max(phase.multipliers.queries for phase in profile.phases) == 1000
    assert peak.duration_s == 60


def test_oct_2025_waterfall_follows_the_calibration_table() -> None:
    # Pace vs pre-event from the table; multiplier = pace ** a, a fitted at the peak minute.
    pre_event = 0.12 / 60
    waterfall = (6.93 - 3.21) / 39 / pre_event
    peak = 3.21 / pre_event
    a_orders, a_queries = math.log(100) / math.log(peak), math.log(1000) / math.log(peak)
    phases = {phase.name: phase for phase in load_profile("oct-2025").phases}
    measured = phases["waterfall"].multipliers
    assert measured.orders == pytest.approx(waterfall**a_orders, rel=0.01)
    assert measured.queries == pytest.approx(waterfall**a_queries, rel=0.01)


def test_oct_2025_shocks_prices_and_withdraws_depth() -> None:
    events = [event for phase in load_profile("oct-2025").phases for event in phase.events]
    assert any(isinstance(event, PriceShock) for event in events)
    assert any(isinstance(event, DepthWithdrawal) and event.pct >= 90 for event in events)


def test_step_ramp_steps_every_class_up_the_ladder_and_holds_each_step_alike() -> None:
    profile = load_profile("step-ramp")
    ladder = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
    assert [phase.multipliers.orders for phase in profile.phases] == ladder
    assert [phase.multipliers.queries for phase in profile.phases] == ladder
    assert len({phase.duration_s for phase in profile.phases}) == 1
    assert all(phase.ramp_s == 0 and not phase.events for phase in profile.phases)


@pytest.mark.parametrize("name", ["oct-2025", "may-2021", "mar-2020"])
def test_the_cascade_profiles_give_the_mock_a_crowd_to_liquidate(name: str) -> None:
    crowd = load_profile(name).crowd
    assert crowd is not None and crowd.accounts >= 1_000


def test_the_knee_finding_ramp_liquidates_nobody_and_a_profile_opens_no_crowd_unless_asked() -> (
    None
):
    assert load_profile("step-ramp").crowd is None
    assert parse_profile(MINIMAL).crowd is None


@pytest.mark.parametrize(
    ("yaml_text", "field", "complaint"),
    [
        (
            _with("queries: 101", "queries: -1"),
            "phases.1.multipliers.queries",
            "greater than or equal to 0",
        ),
        (_with("    ramp_s: 100", "    ramp: 100"), "phases.1.ramp", "Extra inputs"),
        (_with("ramp_s: 100", "ramp_s: 300"), "phases.1", "longer than duration_s"),
        (_with("name: surge", "name: calm"), "(top level)", "used twice"),
        (_with("name: surge", "name: Big Surge"), "phases.1.name", "pattern"),
        (_with("time_scale: 2", "time_scale: 0"), "time_scale", "greater than 0"),
        (
            _with(
                "    ramp_s: 100\n",
                "    ramp_s: 100\n    events: [{type: price_shock, symbol: BTCUSDT}]\n",
            ),
            "phases.1.events.0.price_shock",
            "exactly one of pct or notional",
        ),
        (_with("phases:", "crowd: {acounts: 300}\nphases:"), "crowd.acounts", "Extra inputs"),
        (
            _with("phases:", "crowd: {accounts: 300, leverage: [50, 2]}\nphases:"),
            "crowd",
            "not a range",
        ),
        (
            _with("    ramp_s: 100\n", "    ramp_s: 100\n    events: [{type: meteor}]\n"),
            "phases.1.events.0",
            "does not match any of the expected tags",
        ),
        (
            _with(
                "    ramp_s: 100\n",
                "    ramp_s: 100\n    events: [{type: fault, kind: gremlins, value: 1}]\n",
            ),
            "phases.1.events.0.fault.kind",
            "Input should be",
        ),
        (
            _with(
                "    ramp_s: 100\n",
                "    ramp_s: 100\n    events: [{type: role_crash, role: makers}]\n",
            ),
            "phases.1.events.0.role_crash.role",
            "'engine' or 'projector'",
        ),
        (
            _with(
                "    ramp_s: 100\n",
                "    ramp_s: 100\n    events: [{type: redis_restart, seconds: -1}]\n",
            ),
            "phases.1.events.0.redis_restart.seconds",
            "greater than or equal to 0",
        ),
    ],
)
def test_an_invalid_profile_is_refused_naming_the_field(
    yaml_text: str, field: str, complaint: str
) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile(yaml_text, source="bad.yaml")
    message = str(caught.value)
    assert message.startswith("bad.yaml: invalid profile")
    assert f"  {field}: " in message
    assert complaint in message


def test_a_profile_without_phases_is_refused() -> None:
    text = MINIMAL.partition("phases:")[0] + "phases: []\n"
    with pytest.raises(ProfileError, match="at least one phase"):
        parse_profile(text)


def test_broken_yaml_is_refused_as_yaml() -> None:
    with pytest.raises(ProfileError, match=r"bad\.yaml: not valid YAML"):
        parse_profile("name: [unclosed", source="bad.yaml")


def test_an_unknown_profile_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ProfileError, match=r"no shipped profile named 'oct-2052'.*oct-2025"):
        load_profile("oct-2052")


def test_a_profile_loads_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(MINIMAL)
    assert load_profile(path).name == "tiny"
    assert load_profile(str(path)).name == "tiny"


def test_a_missing_profile_file_is_a_profile_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(tmp_path / "absent.yaml")


@pytest.fixture
def tiny() -> Profile:
    return parse_profile(MINIMAL)


def test_the_run_divides_event_time_by_the_time_scale(tiny: Profile) -> None:
    assert tiny.timeline().duration == 150
    assert tiny.timeline(time_scale=1).duration == 300
    assert [(w.start, w.ramp_end, w.end) for w in tiny.timeline().windows] == [
        (0, 0, 50),
        (50, 100, 150),
    ]


def test_no_phase_is_compressed_below_the_floor_nor_stretched_past_real_time(
    tiny: Profile,
) -> None:
    floored = tiny.model_copy(update={"phase_floor_s": 60})
    # At 2×: calm's 50 s is held at 60; the surge's 100 s is above the floor, its ramp half.
    assert [(w.start, w.ramp_end, w.end) for w in floored.timeline().windows] == [
        (0, 0, 60),
        (60, 110, 160),
    ]
    assert [w.name for w in floored.timeline().floored] == ["calm"]
    # At 10×, both are held at the floor, the surge's ramp keeping half of it.
    assert [(w.start, w.ramp_end, w.end) for w in floored.timeline(10).windows] == [
        (0, 0, 60),
        (60, 90, 120),
    ]
    # A floor longer than a phase's own event time runs it in real time, no longer.
    long_floor = tiny.model_copy(update={"phase_floor_s": 150})
    assert [w.duration for w in long_floor.timeline().windows] == [100, 150]
    assert tiny.timeline().floored == ()


def test_the_phase_running_at_t_starts_at_its_start_and_ends_before_its_end(
    tiny: Profile,
) -> None:
    timeline = tiny.timeline()
    names = [
        window.name if (window := timeline.window_at(t)) else None
        for t in (-0.001, 0, 49.999, 50, 149.999, 150)
    ]
    assert names == [None, "calm", "calm", "surge", "surge", None]


def test_multipliers_ramp_linearly_from_the_previous_phase_then_hold(tiny: Profile) -> None:
    timeline = tiny.timeline()
    assert timeline.multipliers_at(25) == PerClass(orders=1, queries=1, market_data=1)
    assert timeline.multipliers_at(75) == PerClass(orders=6, queries=51, market_data=1)
    assert timeline.multipliers_at(120) == PerClass(orders=11, queries=101, market_data=1)
    assert timeline.multipliers_at(150) is None
    assert timeline.rate_at(RequestClass.QUERIES, 75) == 4 * 51
    assert timeline.rate_at(RequestClass.QUERIES, 150) == 0


def test_a_first_phase_ramps_from_1x() -> None:
    text = MINIMAL.replace("    duration_s: 100\n", "    duration_s: 100\n    ramp_s: 100\n", 1)
    text = text.replace(
        "{orders: 1, queries: 1, market_data: 1}", "{orders: 3, queries: 1, market_data: 1}"
    )
    timeline = parse_profile(text).timeline()
    assert timeline.multipliers_at(0) == PerClass(orders=1, queries=1, market_data=1)
    assert timeline.multipliers_at(25) == PerClass(orders=2, queries=1, market_data=1)


def test_a_phase_without_a_ramp_starts_at_its_own_multipliers(tiny: Profile) -> None:
    stepped = tiny.model_copy(
        update={"phases": (tiny.phases[0], tiny.phases[1].model_copy(update={"ramp_s": 0}))}
    )
    surge = stepped.timeline().windows[1]
    assert surge.entry == surge.phase.multipliers
    assert surge.multipliers_at(surge.start) == surge.phase.multipliers
