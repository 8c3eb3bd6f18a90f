"""Reading this process's exchange metrics in tests: they are process-wide and only go up, so a
test compares values before and after what it does."""

from __future__ import annotations

from exchange_mock.telemetry.registry import process_registry


def sample(name: str, **labels: str) -> float:
    """A sample's value now; 0 for one not exported (yet)."""
    value = process_registry().get_sample_value(name, labels)
    return 0.0 if value is None else value
