"""Posted HTML form fields turned into the API's taskdata shapes, so that the API's own
validator (templates/values.py) judges them and its messages show at the field."""

from __future__ import annotations

from typing import Any

from checkrun.templates.models import Capture

FIELD_PREFIX = "f_"
# A file field's form names: the files it keeps (checked boxes) and those just uploaded.
KEEP_SUFFIX = "__keep"
NEW_SUFFIX = "__new"


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


def _files(name: str, form: dict[str, Any], allowed: set[str]) -> list[str] | None:
    """Only files of this task: a forged id of another file is dropped, not shown."""
    ids = _list(form.get(name + KEEP_SUFFIX)) + _list(form.get(name + NEW_SUFFIX))
    return [i for i in dict.fromkeys(ids) if i in allowed] or None


def _value(field: Capture, form: dict[str, Any], allowed: set[str]) -> Any:
    name = FIELD_PREFIX + field.id
    kind = field.field_type
    if kind == "file":
        return _files(name, form, allowed)
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


def taskdata_from(
    fields: list[Capture], form: dict[str, Any], task_files: set[str] | None = None
) -> dict[str, Any]:
    """Every field's value (None clears it: an emptied field is a cleared one). A file field
    holds asset ids among `task_files`, the task's own files."""
    return {f.id: _value(f, form, task_files or set()) for f in fields}


def field_errors(errors: dict[str, list[str]], prefix: str = "taskdata.") -> dict[str, str]:
    """The validator's `taskdata.<field id>` errors by field id."""
    return {key.removeprefix(prefix): messages[0] for key, messages in errors.items() if messages}
