"""What a value of each field type may be, and its text form for the task filter."""

from __future__ import annotations

import json
import math
import re
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from checkrun.customfields.models import CustomFieldKey

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LIMITS = {"text": 255, "textarea": 6000, "email": 254, "url": 2000}


def _text(key: CustomFieldKey, value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be a string."
    if len(value) > LIMITS[key.field_type]:
        return f"may not be greater than {LIMITS[key.field_type]} characters."
    if key.field_type == "email" and not EMAIL.match(value):
        return "must be a valid email address."
    if key.field_type == "url":
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return "must be a valid URL."
    return None


def _date(value: Any) -> str | None:
    if isinstance(value, str):
        try:
            (datetime if "T" in value else date).fromisoformat(value.replace("Z", "+00:00"))
            return None
        except ValueError:
            pass
    return "is not a valid date."


def _choice(key: CustomFieldKey, value: Any) -> str | None:
    if key.field_type == "multiselect":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "must be a list of options."
        if len(set(value)) != len(value):
            return "has a duplicate option."
        wrong = [v for v in value if v not in key.options]
        return f"has an unknown option: {wrong[0]}." if wrong else None
    if not isinstance(value, str) or value not in key.options:
        return "must be one of the key's options."
    return None


def _table(key: CustomFieldKey, value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
        return "must be a list of rows (objects keyed by column)."
    for row in value:
        unknown = [c for c in row if c not in key.columns]
        if unknown:
            return f"has an unknown column: {unknown[0]}."
        if any(isinstance(cell, (dict, list)) for cell in row.values()):
            return "cells must be plain values."
    return None


def problem(key: CustomFieldKey, value: Any) -> str | None:
    """Why `value` can't be stored under `key` (None: it can)."""
    kind = key.field_type
    if kind in LIMITS:
        return _text(key, value)
    if kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        # NaN and infinities parse from JSON text but can't be stored as JSON.
        return None if ok and math.isfinite(value) else "must be a number."
    if kind == "boolean":
        return None if isinstance(value, bool) else "must be true or false."
    if kind == "date":
        return _date(value)
    if kind in ("radio", "dropdown", "multiselect"):
        return _choice(key, value)
    return _table(key, value)


def as_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return text[:255]
