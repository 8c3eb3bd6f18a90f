"""Fixtures for the fault tests: a client of the session's real Redis, and faults a test sets by
hand."""

from __future__ import annotations

import pytest

from tests.faults.fakes import SetFaults


@pytest.fixture
def faults() -> SetFaults:
    return SetFaults()
