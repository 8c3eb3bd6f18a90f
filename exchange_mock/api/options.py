"""Which methods a path answers, for `OPTIONS` and the `Allow` header of a 405.

Starlette answers a method a path does not serve from the first route that matches the path,
so `/fapi/v1/order`, declared as three routes, would claim `Allow: POST` alone. The error
handlers ask here instead, and answer `OPTIONS` on a path some route serves with its `Allow`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp


def allow(app: ASGIApp, path: str) -> str | None:
    """The `Allow` header for `path`: every method some route serves there, and OPTIONS; None
    when no route serves the path."""
    methods: set[str] = set()
    for route in _routes(getattr(app, "routes", ())):
        if route.methods and route.path_regex.match(path):
            methods |= route.methods
    return ", ".join(sorted({*methods, "OPTIONS"})) if methods else None


def _routes(routes: Iterable[BaseRoute]) -> Iterator[Route]:
    """The routes, and those of routers included whole (FastAPI keeps an `include_router`'s
    router as one entry, which the app factory avoids but a test app may not)."""
    for route in routes:
        if isinstance(route, Route):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _routes(included.routes)
