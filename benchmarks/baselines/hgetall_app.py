"""The baseline for the position-read benchmark: a bare FastAPI endpoint doing one Redis HGETALL
and returning it as JSON — the floor any Redis-backed read endpoint pays.

Usage: python benchmarks/baselines/hgetall_app.py PORT REDIS_URL KEY_PREFIX
"""

from __future__ import annotations

import sys
from typing import Any

import orjson
import uvicorn
from fastapi import FastAPI, Response
from redis.asyncio import Redis


def make_app(redis_url: str, prefix: str) -> FastAPI:
    app = FastAPI()
    redis = Redis.from_url(redis_url)

    @app.get("/bare/{account}")
    async def bare(account: int) -> Response:
        fields: dict[Any, Any] = await redis.hgetall(f"{prefix}:acct:{account}")
        body = {k.decode(): v.decode() for k, v in fields.items()}
        return Response(orjson.dumps(body), media_type="application/json")

    return app


if __name__ == "__main__":
    port, url, prefix = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    uvicorn.run(make_app(url, prefix), host="127.0.0.1", port=port, log_level="warning",
                access_log=False)  # fmt: skip
