"""Posted template, step and form-field forms turned into the API's request bodies, and the
API's validation errors put back at the form's controls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from checkrun.kit.errors import AppError, invalid
from checkrun.kit.validation import laravel_errors
from checkrun.templates.models import Capture, Step

M = TypeVar("M", bound=BaseModel)

# The API's ten field types, as a person reads them.
FIELD_TYPES = (
    ("text", "Short text"),
    ("textarea", "Long text"),
    ("radio", "Radio buttons"),
    ("dropdown", "Dropdown"),
    ("multiselect", "Checkboxes (several choices)"),
    ("date", "Date"),
    ("email", "Email"),
    ("file", "File upload"),
    ("table", "Table"),
    ("assignees_form", "Assign members"),
)
WITH_OPTIONS = ("radio", "dropdown", "multiselect")
DEADLINE_UNITS = (
    ("minutes", "minutes"),
    ("hours", "hours"),
    ("days", "days"),
    ("weeks", "weeks"),
    ("months", "months"),
)
FIELD_CONTROLS = {"label", "field_type", "required", "guidance", "options", "columns"}
STEP_CONTROLS = {"title", "deadline", "assignees", "groups"}
TEMPLATE_CONTROLS = {"title", "summary"}


@dataclass
class Refusal:
    """What a refused form shows: one message per control, and one above the form for the
    rest (or for a refusal that is not about a control)."""

    status: int
    general: str | None
    errors: dict[str, str] = field(default_factory=dict)


def text(form: dict[str, Any], name: str) -> str:
    value = form.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return value.strip() if isinstance(value, str) else ""


def many(form: dict[str, Any], name: str) -> list[str]:
    value = form.get(name)
    items = value if isinstance(value, list) else [value] if value is not None else []
    return [v for v in items if isinstance(v, str) and v]


def lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def validated(model: type[M], data: dict[str, Any]) -> M:
    """The body as the API would take it; its 422 when the API would answer one."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid(laravel_errors(exc.errors())) from None


def refusal(exc: AppError, controls: set[str], fallback: str | None = None) -> Refusal:
    """`deadline.value` shows at `deadline`, `assignees.0` at `assignees`; a whole-body error
    (`body`) at `fallback` when the form has a control it is about."""
    errors: dict[str, str] = {}
    rest: list[str] = []
    for key, messages in (exc.errors or {}).items():
        head = key.split(".")[0]
        name = head if head in controls else fallback
        if name and messages:
            errors.setdefault(name, messages[0])
        else:
            rest.extend(messages[:1])
    if exc.status != 422 or not exc.errors:
        return Refusal(exc.status, exc.message, errors)
    general = rest[0] if rest else "Please correct the fields marked below."
    return Refusal(exc.status, general, errors)


def _numbered(given: list[str], existing: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """An option or column that keeps its text keeps its id (values already collected point
    at the id)."""
    ids = {str(item.get(key)): item.get("id") for item in existing}
    return [{key: line, **({"id": ids[line]} if ids.get(line) else {})} for line in given]


def capture_body(form: dict[str, Any], current: Capture | None = None) -> dict[str, Any]:
    """A whole field definition (the API's capture body). Editing keeps the settings the page
    does not show (default value, validation, ...)."""
    kind = text(form, "field_type")
    body: dict[str, Any] = dict(current.settings or {}) if current is not None else {}
    body |= {
        "label": text(form, "label"),
        "field_type": kind,
        "required": form.get("required") == "on",
        "guidance": text(form, "guidance") or None,
        "options": [],
        "columns": [],
    }
    if kind in WITH_OPTIONS:
        body["options"] = _numbered(
            lines(text(form, "options")), current.options if current else [], "text"
        )
    if kind == "table":
        body["columns"] = _numbered(
            lines(text(form, "columns")), current.columns if current else [], "label"
        )
    return body


def capture_fallback(form: dict[str, Any]) -> str | None:
    kind = text(form, "field_type")
    return "options" if kind in WITH_OPTIONS else "columns" if kind == "table" else None


def _user_id(value: str) -> int | str:
    return int(value) if value.isdigit() and len(value) <= 10 else value


def step_changes(form: dict[str, Any], step: Step) -> dict[str, Any]:
    """Title, assignees, groups and deadline; an empty deadline value removes the deadline.
    A deadline counted from another step or before it keeps that anchor."""
    value = text(form, "deadline_value")
    deadline = None
    if value:
        kept = {k: v for k, v in (step.deadline or {}).items() if k in ("option", "step")}
        deadline = {**kept, "value": value, "unit": text(form, "deadline_unit") or "days"}
    return {
        "title": text(form, "title"),
        "deadline": deadline,
        "assignees": [_user_id(v) for v in many(form, "assignees")],
        "groups": many(form, "groups"),
    }


def deadline_text(deadline: dict[str, Any] | None, step_titles: dict[str, str]) -> str:
    if not deadline:
        return "No deadline"
    when = "before" if deadline.get("option") == "prior_to" else "after"
    anchor = step_titles.get(deadline.get("step") or "", "launch")
    if deadline.get("step"):
        anchor = f"step “{anchor}”"
    return f"{deadline.get('value')} {deadline.get('unit', 'days')} {when} {anchor}"
