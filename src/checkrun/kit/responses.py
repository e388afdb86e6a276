"""Envelope helpers: `{"data": ...}` for items, plus `meta` for lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from pydantic_core import to_json


class EnvelopeResponse(JSONResponse):
    """JSON written by pydantic-core in one pass, models included: the bytes Starlette's
    `json.dumps` would write for the same dump (compact, UTF-8 unescaped), without building the
    intermediate dicts. Non-finite floats are `null` rather than an error."""

    def render(self, content: Any) -> bytes:
        return to_json(content, by_alias=False, inf_nan_mode="null")


def dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [dump(v) for v in value]
    return value


def item(value: Any, status: int = 200) -> JSONResponse:
    return EnvelopeResponse({"data": value}, status_code=status)


def listing(values: Sequence[Any], meta: dict[str, Any]) -> JSONResponse:
    return EnvelopeResponse({"data": list(values), "meta": meta})


def empty(status: int = 200) -> Response:
    """A success with no body at all (Content-Length: 0), as the seeded deletes answer."""
    return Response(status_code=status)


def wrapped(value: Any) -> dict[str, Any]:
    """An include, wrapped again the Fractal way: `{"data": ...}`."""
    return {"data": dump(value)}
