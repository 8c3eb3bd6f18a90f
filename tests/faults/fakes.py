"""Faults a test sets by hand, for components that read them through a `FaultReader`."""

from __future__ import annotations

from exchange_mock.faults.kinds import FaultKind


class SetFaults:
    def __init__(self) -> None:
        self.faults: dict[FaultKind, float] = {}

    def value(self, kind: FaultKind) -> float:
        return self.faults.get(kind, 0.0)
