"""The settings a run was made with, as a reader needs them: first what shaped the run, then the
rest, each in its unit.

settings.json records every option and what the run resolved it to (ports, directories, the
origin timestamp, seeds). A reader comparing two reports asks first what load was offered, how
fast time ran, how large the venue was and how the clients behaved; those lead, and the rest is
kept for whoever needs it, folded away in the HTML.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import JsonValue

from loadtests.profiles import Profile, RequestClass
from loadtests.report.schema import Report
from loadtests.report.units import moment, multiple, num, rate, seconds

LONGEST_SETTING = 80
SECONDS = frozenset(
    {
        "client_timeout",
        "expected_latency",
        "generator_lag_tolerance",
        "probe_interval",
    }
)
"""Settings recorded in seconds."""
INTERVALS = {"SECOND": "s", "MINUTE": "min", "HOUR": "h", "DAY": "d"}
LEADING: tuple[tuple[str, str], ...] = (
    ("baseline_scale", "baseline scale"),
    ("api_workers", "API workers"),
    ("client_ips", "client IPs"),
    ("client_timeout", "client timeout"),
    ("retry", "retry policy"),
)
"""The recorded settings that shaped the run, by name, after the profile's own; a setting the
run did not record (an older run) is left out."""
FROM_PROFILE = frozenset({"profile", "time_scale", "phase_floor"})
"""Settings the profile states as the run ran it, so shown from there."""


FORMATS: dict[str, Callable[[float], str]] = {
    "origin": moment,
    "baseline_scale": multiple,
}
"""Settings in a unit of their own; the rest of the numbers are counts, or seconds."""


@dataclass(frozen=True, slots=True)
class RunSettings:
    shaping: tuple[tuple[str, str], ...]
    rest: tuple[tuple[str, str], ...]


def run_settings(report: Report) -> RunSettings:
    profile = report.profile
    baseline = ", ".join(
        rate(profile.baseline.of(klass), f"{klass.value.replace('_', ' ')}/s")
        for klass in RequestClass
    )
    settings = report.settings
    shaping = (
        ("profile", profile.name),
        ("time scale", f"{num(profile.time_scale)} event s per run s"),
        ("phase floor", _phase_floor(profile)),
        ("baseline (1×)", baseline),
        *((label, setting(key, settings[key])) for key, label in LEADING if key in settings),
    )
    shown = {key for key, _ in LEADING} | FROM_PROFILE
    rest = tuple(
        (key.replace("_", " "), setting(key, value))
        for key, value in sorted(settings.items())
        if key not in shown
    )
    return RunSettings(shaping, rest)


def _phase_floor(profile: Profile) -> str:
    """The floor, and the phases held at it: their verdicts come from a slower clock than the
    time scale says."""
    if not profile.phase_floor_s:
        return "none: every phase compressed by the time scale"
    held = profile.timeline().floored
    if not held:
        return f"{num(profile.phase_floor_s)} s; no phase was held at it"
    names = ", ".join(
        f"{w.name} ran {num(w.duration)} s, {num(w.phase.duration_s / profile.time_scale)} s "
        "by the time scale alone"
        for w in held
    )
    return f"{num(profile.phase_floor_s)} s, so a queue can settle within a phase: {names}"


def setting(key: str, value: JsonValue) -> str:
    """One setting as one short line in its unit; structures too long for a table cell are
    only counted."""
    if value is None:
        return "not recorded"
    if key == "rate_limits" and isinstance(value, list):
        return _rate_limits(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _structure(value) if isinstance(value, list | dict) else str(value)
    format_: Callable[[float], str] | None = FORMATS.get(key)
    if format_ is None:
        format_ = seconds if key in SECONDS else num
    return format_(value)


def _rate_limits(limits: list[JsonValue]) -> str:
    """Binance's exchangeInfo rateLimits as a reader says them: "ORDERS 300 per 10 s"."""
    said = []
    for limit in limits:
        if not isinstance(limit, dict):
            return _structure(limits)
        count, unit = limit.get("intervalNum"), INTERVALS.get(str(limit.get("interval")))
        most = limit.get("limit")
        shown = f"{most:,}" if isinstance(most, int) else str(most)
        said.append(f"{limit.get('rateLimitType')} {shown} per {count} {unit}")
    return "; ".join(said)


def _structure(value: list[JsonValue] | dict[str, JsonValue]) -> str:
    text = json.dumps(value)
    return text if len(text) <= LONGEST_SETTING else f"{len(value)} entries"
