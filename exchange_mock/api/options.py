"""Which methods a path answers, for `OPTIONS` and the `Allow` header of a 405.

Starlette answers a method a path does not serve from the first route that matches the path,
so `/fapi/v1/order`, declared as three routes, would claim `Allow: POST` alone."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.exceptions import HTTPException
from starlette.routing import Route
from starlette.types import ASGIApp

router = APIRouter()


def allow(app: ASGIApp, path: str) -> str | None:
    """The `Allow` header for `path`: every method some route serves there (OPTIONS among
    them where this module's route is mounted); None when no route but OPTIONS serves it."""
    methods: set[str] = set()
    for route in getattr(app, "routes", ()):
        if isinstance(route, Route) and route.methods and route.path_regex.match(path):
            methods |= route.methods
    return ", ".join(sorted(methods)) if methods - {"OPTIONS"} else None


@router.options("/{path:path}", include_in_schema=False)
async def options(request: Request) -> Response:
    methods = allow(request.app, request.url.path)
    if methods is None:
        raise HTTPException(404)
    return Response(headers={"Allow": methods})
