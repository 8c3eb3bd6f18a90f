"""The matching engine: pure state in, events out (no I/O, no clock, no randomness), so a
replay of the journal rebuilds it exactly. `runner` is its only I/O."""

from exchange_mock.engine.audit import Audit
from exchange_mock.engine.core import Engine

__all__ = ["Audit", "Engine"]
