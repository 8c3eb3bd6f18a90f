"""`GET /stampede/health`: 200 when the exchange is doing its job, 503 when it is not, with each
role's state and the pipeline's progress either way (see `liveness.py`). What the container
health checks and `python -m exchange_mock.health` ask."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request, Response

from exchange_mock.liveness import Liveness

router = APIRouter(prefix="/stampede", tags=["operator"])

PATH = "/stampede/health"


@router.get("/health", summary="Roles, Redis and pipeline progress; 503 when unhealthy")
async def get_health(request: Request) -> Response:
    liveness: Liveness = request.app.state.liveness
    healthy, report = await liveness.check()
    return Response(
        orjson.dumps(report), status_code=200 if healthy else 503, media_type="application/json"
    )
