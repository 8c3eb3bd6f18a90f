"""Locust imported without patching this test process, as `tests/loadtests/conftest.py`
explains: the Compose file's tests read Locust's table of options."""

from __future__ import annotations

from tests.loadtests import conftest  # noqa: F401  (the import is the point)
