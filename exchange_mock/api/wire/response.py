"""The response every route sends, and the projection that picks a version's fields from the
full set computed once."""

from __future__ import annotations

from typing import Any, Literal

import orjson
from fastapi import Response

from exchange_mock.formats import JsonObject

Version = Literal[2, 3]


def json_response(content: Any, headers: dict[str, str] | None = None) -> Response:
    """orjson straight into a Response: no pydantic model, no second serialization pass."""
    return Response(orjson.dumps(content), media_type="application/json", headers=headers)


def project(full: JsonObject, fields: tuple[str, ...]) -> JsonObject:
    return {name: full[name] for name in fields}
