"""The baseline for the middleware benchmark: the exchange's API exactly as served, minus its
edge middleware (concurrency cap, rate limits, API faults).

Usage: python benchmarks/baselines/edge_free_app.py (settings from the `STAMPEDE_*` environment)
"""

from __future__ import annotations

import uvicorn

from exchange_mock.api.middleware import EdgeMiddleware
from exchange_mock.app import create_app
from exchange_mock.settings import Settings

if __name__ == "__main__":
    settings = Settings()
    app = create_app(settings)
    # Starlette builds its middleware stack on the first request, so this is the whole edit.
    app.user_middleware = [m for m in app.user_middleware if m.cls is not EdgeMiddleware]
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning",
                access_log=False)  # fmt: skip
