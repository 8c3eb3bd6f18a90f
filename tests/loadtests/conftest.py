"""Locust importable in this test process without patching it.

Importing Locust monkey-patches the whole interpreter with gevent, which would change how every
later test in the session (asyncio servers, Redis clients) runs. Locust skips the patching when
LOCUST_SKIP_MONKEY_PATCH is set at its first import, so the first import happens here, before
any test module's; the variable is removed again at once so the Locust processes that tests
start patch themselves as in any real run.
"""

from __future__ import annotations

import importlib
import os


def _import_locust_unpatched() -> None:
    os.environ["LOCUST_SKIP_MONKEY_PATCH"] = "1"
    try:
        importlib.import_module("locust")
    finally:
        del os.environ["LOCUST_SKIP_MONKEY_PATCH"]


_import_locust_unpatched()
