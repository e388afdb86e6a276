"""Pydantic errors rewritten as Laravel-style field messages, the shape Tallyfy clients parse."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import AfterValidator

_SKIP_LOC = {"body", "query", "path", "header", "form"}


def field_name(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in _SKIP_LOC]
    return ".".join(parts) or "body"


def _message(err: dict[str, Any], field: str) -> str:
    human = field.split(".")[-1].replace("_", " ")
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return f"The {human} field is required."
    if kind == "string_too_long":
        return f"The {human} may not be greater than {ctx.get('max_length')} characters."
    if kind == "string_too_short":
        return (
            f"The {human} field is required."
            if ctx.get("min_length") == 1
            else (f"The {human} must be at least {ctx.get('min_length')} characters.")
        )
    if kind in ("literal_error", "enum"):
        return f"The selected {human} is invalid."
    if kind.startswith("int") or kind.startswith("float"):
        return f"The {human} must be a number."
    if kind.startswith("bool"):
        return f"The {human} field must be true or false."
    if kind.startswith("datetime") or kind.startswith("date"):
        return f"The {human} is not a valid date."
    if kind in ("list_type", "tuple_type"):
        return f"The {human} must be an array."
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"The {human} must be an object."
    if kind == "string_type":
        return f"The {human} must be a string."
    if kind == "value_error":
        return str(err.get("msg", "")).removeprefix("Value error, ") or f"The {human} is invalid."
    return f"The {human} is invalid."


def laravel_errors(errors: Sequence[Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for err in errors:
        name = field_name(err.get("loc", ()))
        out.setdefault(name, []).append(_message(err, name))
    return out or {"body": ["The request is invalid."]}


def _valid_datetime(value: str) -> str:
    from checkrun.kit.clock import parse_datetime

    try:
        parse_datetime(value)
    except (ValueError, TypeError) as exc:
        raise ValueError("not a valid date") from exc
    return value


# A request date: ISO 8601 (Z or offset) or `YYYY-MM-DD HH:MM:SS`, kept as sent until used.
DateTimeText = Annotated[str, AfterValidator(_valid_datetime)]
