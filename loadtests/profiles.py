"""Surge profiles: data files (YAML) that say how hard to push, when, and what to do to the
exchange along the way.

A profile is a baseline rate per request class (what 1x means, in requests per second) and a list
of phases. Each phase multiplies the baseline for a duration of *event* time, optionally ramping
linearly from the previous phase's multipliers, and may trigger exchange-side events (a price
shock, market makers pulling depth, the oracle mode, an injected fault) that a driver applies
through the mock's admin API. A run compresses event time by the time scale: a phase of 600 s
at time scale 6 lasts 100 s of the run, at the same requests per second.

A cascade profile also names the crowd of leveraged positions the embedded mock opens at
genesis (`crowd`), so its shocks liquidate someone and the liquidation feed has something to
hide; a target of the user's own brings its own traders and the field does not apply to it.

Profiles are validated strictly (unknown keys are errors) so a typo fails at load time with the
field's path, not halfway through a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from exchange_mock.settings import Crowd

SLUG = r"^[a-z0-9][a-z0-9-]*$"
"""Profile and phase names: they become file names and metric keys, so no spaces or dots."""

PROFILE_SUFFIXES = (".yaml", ".yml")


class ProfileError(ValueError):
    """A profile that cannot be found, parsed or validated; the message names the field."""


class RequestClass(StrEnum):
    """The traffic a profile paces, each at its own rate."""

    ORDERS = "orders"
    """Order placement and cancellation."""
    QUERIES = "queries"
    """Position and account queries (positionRisk, account, balance)."""
    MARKET_DATA = "market_data"
    """Depth, ticker and premium index reads."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class PerClass(_Strict):
    """One non-negative number per request class: a baseline in requests per second, or the
    multipliers a phase applies to it."""

    orders: float = Field(ge=0)
    queries: float = Field(ge=0)
    market_data: float = Field(ge=0)

    def of(self, klass: RequestClass) -> float:
        value: float = getattr(self, klass.value)
        return value

    def lerp(self, other: PerClass, fraction: float) -> PerClass:
        """The point `fraction` (0..1) of the way from this to `other`, per class."""
        return PerClass.model_validate(
            {
                klass.value: self.of(klass) + (other.of(klass) - self.of(klass)) * fraction
                for klass in RequestClass
            }
        )


UNIT = PerClass(orders=1, queries=1, market_data=1)
"""The 1x multipliers a first phase ramps from."""


class PriceShock(_Strict):
    """Move a symbol's price once: `pct` moves the reference price (of one spot `venue` only,
    when given; of every venue otherwise), `notional` sells (negative) or buys that many USDT
    at market (into `venue`'s spot book when given; into the exchange's own book otherwise)."""

    type: Literal["price_shock"] = "price_shock"
    symbol: str = Field(pattern=r"^[A-Z0-9]+$")
    venue: str | None = None
    pct: float | None = Field(default=None, gt=-100)
    notional: Decimal | None = None

    @model_validator(mode="after")
    def _one_size(self) -> PriceShock:
        if (self.pct is None) == (self.notional is None):
            raise ValueError("give exactly one of pct or notional")
        if self.pct == 0 or self.notional == 0:
            raise ValueError("a shock of zero does nothing; leave it out")
        return self


class DepthWithdrawal(_Strict):
    """Market makers pull `pct` percent of their resting depth (0 restores it) until a later
    phase changes it."""

    type: Literal["depth_withdrawal"] = "depth_withdrawal"
    pct: float = Field(ge=0, le=100)


class OracleSource(StrEnum):
    SPOT = "spot"
    """Marks and collateral from the exchange's own book: the design one dump can knock over."""
    INDEX = "index"
    """Marks from a capped, averaged multi-venue index."""


class OracleMode(_Strict):
    """Switch how marks are priced, until a later phase switches back."""

    type: Literal["oracle_mode"] = "oracle_mode"
    mode: OracleSource


class FaultKind(StrEnum):
    """Faults the mock can inject; each holds until a later phase sets it again (0 clears)."""

    UNAVAILABLE_PCT = "unavailable_pct"
    """Percent of API requests answered 503 "Service Unavailable." (not executed)."""
    ENGINE_DELAY_MS = "engine_delay_ms"
    """Extra time per engine batch: acks slow down until orders time out with -1007."""
    PROJECTOR_DELAY_MS = "projector_delay_ms"
    """Extra time per projector round: the read model falls behind, reads go stale."""
    FEED_DELAY_MS = "feed_delay_ms"
    """Extra delay before feed messages are pushed."""


class Fault(_Strict):
    type: Literal["fault"] = "fault"
    kind: FaultKind
    value: float = Field(ge=0)


class RedisOutage(_Strict):
    """The exchange's Redis drops every client and refuses new ones for `seconds` of wall time
    (not scaled: an outage lasts what it lasts), then takes them again, as in a restart or a
    failover."""

    type: Literal["redis_outage"] = "redis_outage"
    seconds: float = Field(gt=0, le=600)


class RedisRestart(_Strict):
    """The mock's embedded Redis shuts down, stays down `seconds` of wall time (not scaled),
    and starts again on its port from its append-only file: every client is dropped, and
    nothing it acknowledged is lost. A mock on a Redis of the user's own refuses it."""

    type: Literal["redis_restart"] = "redis_restart"
    seconds: float = Field(default=0, ge=0, le=600)


class CrashedRole(StrEnum):
    ENGINE = "engine"
    PROJECTOR = "projector"


class RoleCrash(_Strict):
    """The mock's process running `role` is killed (SIGKILL) and started again by its
    supervisor, and recovers from the journal. The mock needs its roles in a process of their
    own (`--workers 2` or more); in one process it refuses, since nothing would restart it."""

    type: Literal["role_crash"] = "role_crash"
    role: CrashedRole


Outage = RedisOutage | RedisRestart | RoleCrash
"""The events after which the report measures how long the exchange took to recover."""

Event = Annotated[
    PriceShock | DepthWithdrawal | OracleMode | Fault | Outage, Field(discriminator="type")
]
"""Something a phase does to the exchange when it starts."""


class Phase(_Strict):
    name: str = Field(pattern=SLUG)
    duration_s: float = Field(gt=0, description="Seconds of event time.")
    ramp_s: float = Field(
        default=0,
        ge=0,
        description="Seconds of event time, from the phase's start, over which the multipliers "
        "move linearly from the previous phase's (1x before the first); 0 steps at once.",
    )
    multipliers: PerClass
    events: tuple[Event, ...] = ()

    @model_validator(mode="after")
    def _ramp_within(self) -> Phase:
        if self.ramp_s > self.duration_s:
            raise ValueError(f"ramp_s {self.ramp_s} is longer than duration_s {self.duration_s}")
        return self


class Profile(_Strict):
    name: str = Field(pattern=SLUG)
    description: str
    time_scale: float = Field(
        default=1, gt=0, description="Event seconds per run second, unless the run says otherwise."
    )
    phase_floor_s: float = Field(
        default=0,
        ge=0,
        description="Run seconds no phase is compressed below (a phase shorter in event time "
        "runs in real time): a queue needs time to reach its steady state, or a phase's verdict "
        "is only how fast a backlog drains. A run sets it (15 s unless told); 0 compresses "
        "every phase by the time scale alone.",
    )
    baseline: PerClass = Field(description="Requests per second per class at 1x.")
    phases: tuple[Phase, ...]
    crowd: Crowd | None = Field(
        default=None,
        description="Leveraged positions per contract the embedded mock opens at genesis; "
        "none by default.",
    )

    @model_validator(mode="after")
    def _named_phases(self) -> Profile:
        # Checked here rather than with min_length, which pydantic also reports (confusingly)
        # when any phase is invalid.
        if not self.phases:
            raise ValueError("a profile needs at least one phase")
        seen: set[str] = set()
        for phase in self.phases:
            if phase.name in seen:
                raise ValueError(f"phase name {phase.name!r} is used twice")
            seen.add(phase.name)
        return self

    def timeline(self, time_scale: float | None = None) -> Timeline:
        """The phases laid out in run seconds at `time_scale` (the profile's own by default),
        none shorter than `phase_floor_s` (see there); a ramp keeps its share of its phase."""
        scale = self.time_scale if time_scale is None else time_scale
        if not scale > 0:
            raise ValueError(f"time scale must be positive, not {scale}")
        windows: list[PhaseWindow] = []
        start, entry = 0.0, UNIT
        for index, phase in enumerate(self.phases):
            length = max(phase.duration_s / scale, min(phase.duration_s, self.phase_floor_s))
            end = start + length
            windows.append(
                PhaseWindow(
                    index=index,
                    phase=phase,
                    start=start,
                    end=end,
                    ramp_end=start + length * phase.ramp_s / phase.duration_s,
                    entry=entry if phase.ramp_s > 0 else phase.multipliers,
                )
            )
            start, entry = end, phase.multipliers
        return Timeline(baseline=self.baseline, time_scale=scale, windows=tuple(windows))


@dataclass(frozen=True, slots=True)
class PhaseWindow:
    """One phase placed on the run's clock (seconds from the run's start)."""

    index: int
    phase: Phase
    start: float
    end: float
    ramp_end: float
    """Where the ramp reaches the phase's multipliers; equal to `start` for a step."""
    entry: PerClass
    """The multipliers at `start`."""

    @property
    def name(self) -> str:
        return self.phase.name

    @property
    def duration(self) -> float:
        return self.end - self.start

    def multipliers_at(self, t: float) -> PerClass:
        if t >= self.ramp_end:
            return self.phase.multipliers
        fraction = max(0.0, (t - self.start) / (self.ramp_end - self.start))
        return self.entry.lerp(self.phase.multipliers, fraction)


@dataclass(frozen=True, slots=True)
class Timeline:
    """A profile at one time scale: which phase runs when, and at what rates."""

    baseline: PerClass
    time_scale: float
    windows: tuple[PhaseWindow, ...]

    @property
    def duration(self) -> float:
        """Run seconds from the first phase's start to the last one's end."""
        return self.windows[-1].end

    @property
    def floored(self) -> tuple[PhaseWindow, ...]:
        """The phases held at the profile's floor: longer than the time scale alone makes them."""
        return tuple(
            window
            for window in self.windows
            if window.duration > window.phase.duration_s / self.time_scale * (1 + 1e-9)
        )

    def window_at(self, t: float) -> PhaseWindow | None:
        """The phase running `t` run seconds in; None before the start or from the end on."""
        if t < 0:
            return None
        return next((window for window in self.windows if t < window.end), None)

    def multipliers_at(self, t: float) -> PerClass | None:
        window = self.window_at(t)
        return None if window is None else window.multipliers_at(t)

    def rate_at(self, klass: RequestClass, t: float) -> float:
        """Requests per second of `klass` the profile asks for at `t`; 0 outside the run."""
        multipliers = self.multipliers_at(t)
        return 0.0 if multipliers is None else self.baseline.of(klass) * multipliers.of(klass)


def shipped_profiles() -> list[str]:
    """Names of the profiles that ship with Stampede."""
    folder = resources.files("loadtests").joinpath("profiles")
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    )


def load_profile(name_or_path: str | Path) -> Profile:
    """A shipped profile by name (`oct-2025`), or a profile file by path."""
    if _is_path(name_or_path):
        path = Path(name_or_path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise ProfileError(f"{path}: cannot read the profile: {exc.strerror}") from exc
        return parse_profile(text, source=str(path))
    name = str(name_or_path)
    resource = resources.files("loadtests").joinpath("profiles", f"{name}.yaml")
    if not resource.is_file():
        known = ", ".join(shipped_profiles())
        raise ProfileError(f"no shipped profile named {name!r}; known: {known}")
    return parse_profile(resource.read_text(), source=f"{name}.yaml")


def parse_profile(text: str, source: str = "<profile>") -> Profile:
    """Validate a profile's YAML text; errors name `source` and the offending field's path."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError(f"{source}: not valid YAML: {exc}") from exc
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(f"{source}: invalid profile\n{_describe(exc.errors())}") from exc


def dump_profile(profile: Profile) -> str:
    """The profile as YAML that `parse_profile` reads back to an equal profile; without a phase
    floor, as it was written before there were floors."""
    unset = {"phase_floor_s"} if not profile.phase_floor_s else None
    fields = profile.model_dump(mode="json", exclude=unset)
    return yaml.safe_dump(fields, sort_keys=False, allow_unicode=True)


def _is_path(name_or_path: str | Path) -> bool:
    if isinstance(name_or_path, Path):
        return True
    return "/" in name_or_path or "\\" in name_or_path or name_or_path.endswith(PROFILE_SUFFIXES)


def _describe(errors: Sequence[ErrorDetails]) -> str:
    return "\n".join(
        f"  {'.'.join(str(part) for part in error['loc']) or '(top level)'}: {error['msg']}"
        for error in errors
    )
