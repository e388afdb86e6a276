"""Posted HTML form fields turned into the API's taskdata shapes, so that the API's own
validator (templates/values.py) judges them and its messages show at the field."""

from __future__ import annotations

from typing import Any

from checkrun.templates.models import Capture

FIELD_PREFIX = "f_"
# Fields the page can't edit yet (their values are left as they are).
READ_ONLY_TYPES = ("file",)


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [v for v in items if isinstance(v, str)]


def _one(value: Any) -> str:
    items = _list(value)
    return items[0] if items else ""


def _choice(field: Capture, option_id: str) -> dict[str, Any]:
    for option in field.options or []:
        if str(option.get("id")) == option_id:
            return {"id": option.get("id"), "text": option.get("text")}
    # Unknown: the validator answers its own message for it.
    return {"id": option_id, "text": None}


def _value(field: Capture, form: dict[str, Any]) -> Any:
    name = FIELD_PREFIX + field.id
    kind = field.field_type
    if kind == "multiselect":
        return [_choice(field, v) for v in _list(form.get(name)) if v] or None
    if kind == "dropdown":
        chosen = _one(form.get(name))
        return _choice(field, chosen) if chosen else None
    if kind == "table":
        cells = [_one(form.get(f"{name}__{i}")) for i in range(len(field.columns or []))]
        return cells if any(c.strip() for c in cells) else None
    if kind == "assignees_form":
        users = [int(v) for v in _list(form.get(name)) if v.isdigit() and len(v) <= 10]
        return {"users": users, "guests": [], "groups": []} if users else None
    text = _one(form.get(name))
    return text if text.strip() else None


def taskdata_from(fields: list[Capture], form: dict[str, Any]) -> dict[str, Any]:
    """Every editable field's value (None clears it: an emptied field is a cleared one)."""
    return {f.id: _value(f, form) for f in fields if f.field_type not in READ_ONLY_TYPES}


def field_errors(errors: dict[str, list[str]], prefix: str = "taskdata.") -> dict[str, str]:
    """The validator's `taskdata.<field id>` errors by field id."""
    return {key.removeprefix(prefix): messages[0] for key, messages in errors.items()
            if messages}
