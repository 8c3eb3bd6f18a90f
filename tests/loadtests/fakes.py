"""Plans, market connections and clocks for the harness's unit tests."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from loadtests.accounts import seeded_accounts, split_probes
from loadtests.options import HarnessOptions, RunPlan
from loadtests.profiles import PerClass, Phase, Profile
from loadtests.users.market import Connection, Market, SymbolRules


def _times(multiple: float) -> PerClass:
    return PerClass(orders=multiple, queries=multiple, market_data=multiple)


def two_phase_plan(
    *, origin: float = 1000.0, workers: int = 1, probes: int = 2, **options: object
) -> RunPlan:
    """A plan of two 10-second phases (the second at 3x) at 10 requests/s per class."""
    profile = Profile(
        name="test",
        description="",
        baseline=PerClass(orders=10, queries=10, market_data=10),
        phases=(
            Phase(name="calm", duration_s=10, multipliers=_times(1)),
            Phase(name="surge", duration_s=10, multipliers=_times(3)),
        ),
    )
    values: dict[str, Any] = {"profile": "test", "symbols": ("BTCUSDT",), **options}
    return RunPlan(
        options=HarnessOptions(**values),
        profile=profile,
        host="http://target",
        ws_host="ws://target",
        origin=origin,
        workers=workers,
        accounts=split_probes(seeded_accounts("test", 6), probes),
        run_dir=Path("unused"),
    )


BTC_RULES = SymbolRules(
    "BTCUSDT", Decimal("0.10"), Decimal("0.001"), Decimal("0.001"), Decimal(100)
)


def btc_connection(mark: str = "100000") -> Connection:
    return Connection(Market({"BTCUSDT": BTC_RULES}, {"BTCUSDT": Decimal(mark)}), clock_offset_ms=0)


class FakeClock:
    """A clock tests move by hand; its `sleep` moves it."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
