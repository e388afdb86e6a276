"""Reading a raw ASGI scope, for the pure middlewares that run before FastAPI parses one."""

from __future__ import annotations

from starlette.types import Scope


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of header `name` (lowercase bytes, as ASGI gives them)."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None
