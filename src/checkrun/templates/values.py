"""Form values (taskdata, prerun): one validator for every field type, as Tallyfy's
FormValuesValidator serves both. Keys are field ids; unknown keys are dropped."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.files.repository import FilesRepository
from checkrun.files.schemas import AssetRead
from checkrun.kit.clock import iso, parse_datetime
from checkrun.kit.errors import invalid
from checkrun.templates.models import Capture

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TEXT_LIMITS = {"text": 200, "textarea": 30_000}


class BadValue(ValueError):
    pass


@dataclass(frozen=True)
class ValueContext:
    db: AsyncSession
    org_id: str
    api_base: str


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _text(field: Capture, value: Any) -> Any:
    if not isinstance(value, str):
        raise BadValue(f"The {field.label} must be a string.")
    limit = TEXT_LIMITS.get(field.field_type)
    if limit and len(value) > limit:
        raise BadValue(f"The {field.label} may not be greater than {limit} characters.")
    if field.field_type == "email" and not EMAIL.match(value):
        raise BadValue(f"The {field.label} must be a valid email address.")
    return value


def _date(field: Capture, value: Any) -> Any:
    try:
        return iso(parse_datetime(str(value)))
    except (ValueError, TypeError):
        raise BadValue(f"The {field.label} is not a valid date.") from None


# The keys of a chosen option a value keeps; anything else the client sent is dropped.
OPTION_KEYS = ("id", "text", "value", "required", "selected")


def _option(field: Capture, value: Any) -> dict[str, Any]:
    """The option as the client sent it (clients compare what they read back with what they
    sent), once its id and text are found together on one of the field's options."""
    if not isinstance(value, dict):
        raise BadValue("Invalid dropdown choice selected.")
    for option in field.options or []:
        if option.get("id") == value.get("id") and option.get("text") == value.get("text"):
            return {k: value[k] for k in OPTION_KEYS if k in value}
    raise BadValue("Invalid dropdown choice selected.")


def _radio(field: Capture, value: Any) -> Any:
    if value not in [o.get("text") for o in field.options or []]:
        raise BadValue(f"The selected {field.label} is invalid.")
    return value


def _multiselect(field: Capture, value: Any) -> Any:
    if not isinstance(value, list):
        raise BadValue(f"The {field.label} must be an array.")
    return [_option(field, item) for item in value]


def _table(field: Capture, value: Any) -> Any:
    if not isinstance(value, list) or len(value) != len(field.columns or []):
        raise BadValue("Number of columns does not match required columns")
    return value


def _assignees(field: Capture, value: Any) -> Any:
    if not isinstance(value, dict):
        raise BadValue(f"The {field.label} must be an object with users, guests and groups.")
    return {key: list(value.get(key) or []) for key in ("users", "guests", "groups")}


CHECKS: dict[str, Callable[[Capture, Any], Any]] = {
    "text": _text,
    "textarea": _text,
    "email": _text,
    "date": _date,
    "radio": _radio,
    "dropdown": _option,
    "multiselect": _multiselect,
    "table": _table,
    "assignees_form": _assignees,
}


MAX_URL = 2000
MAX_FILENAME = 255


def _link(field: Capture, item: dict[str, Any]) -> dict[str, Any]:
    """A file given by its address (`source: "url"`), kept as a link, as Tallyfy keeps it:
    checkrun never fetches it (no request to an address a client chose)."""
    url = item.get("url")
    try:
        parts = urlsplit(url) if isinstance(url, str) and len(url) <= MAX_URL else None
        host = parts.hostname if parts else None
    except ValueError:
        parts = host = None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise BadValue(f"The {field.label} link must be an http or https address.")
    name = item.get("filename")
    if name is None:
        name = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1]) or host
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_FILENAME:
        raise BadValue(f"The {field.label} link needs a filename of at most 255 characters.")
    return {
        "filename": name.strip(),
        "source": "url",
        "url": url,
        "full_url": url,
        "uploaded_from": field.id,
    }


async def _files(ctx: ValueContext, field: Capture, value: Any) -> list[dict[str, Any]]:
    """A file field holds the assets uploaded for it, each with its download links, and
    links to files elsewhere (`source: "url"`)."""
    items = value if isinstance(value, list) else [value]
    repo = FilesRepository(ctx.db)
    out = []
    for item in items:
        if isinstance(item, dict) and item.get("source") == "url":
            out.append(_link(field, item))
            continue
        asset_id = item.get("id") if isinstance(item, dict) else item
        asset = await repo.get(ctx.org_id, str(asset_id)) if asset_id else None
        if asset is None:
            raise BadValue(f"The {field.label} must be a file uploaded to this organization.")
        out.append(AssetRead.of(asset, ctx.api_base).model_dump())
    return out


async def clean_values(
    ctx: ValueContext, fields: list[Capture], given: dict[str, Any], prefix: str
) -> dict[str, Any]:
    """Validated values by field id; None clears a value. Errors are keyed `prefix.field_id`."""
    known = {f.id: f for f in fields}
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, raw in given.items():
        field = known.get(key)
        if field is None:
            continue
        try:
            if is_empty(raw):
                cleaned[key] = None
            elif field.field_type == "file":
                cleaned[key] = await _files(ctx, field, raw)
            else:
                cleaned[key] = CHECKS[field.field_type](field, raw)
        except BadValue as exc:
            errors[f"{prefix}.{key}"] = [str(exc)]
    if errors:
        raise invalid(errors)
    return cleaned
