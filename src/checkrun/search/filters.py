"""The structured `filter[...]` grammar of GET /search (api-v2's BaseRepository::searchFilter,
as the official SDK encodes it): one condition

    filter[type]=field&filter[field]=title&filter[operation]=<>&filter[value]=Foo

or a group whose entry 0 is the logical operator and whose entries 1.. are conditions or
nested groups:

    filter[0][type]=boolean&filter[0][value]=OR&filter[1][field]=...&filter[2][0][type]=...

Parsed into a tree of typed conditions; anything malformed is a 422 naming the offending key."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from checkrun.kit.clock import parse_datetime
from checkrun.kit.errors import AppError, invalid_field

OPERATIONS = ("=", "<>", "!=", "<", ">", "<=", ">=")
LOGICAL = ("AND", "OR")
MAX_DEPTH = 4
MAX_CONDITIONS = 25

# What each field holds; decides how its value is read and which operations make sense.
FIELD_KINDS = {
    "title": "text",
    "name": "text",
    "label": "text",
    "description": "text",
    "status": "text",
    "type": "text",
    "task_type": "text",
    "step_type": "text",
    "field_type": "text",
    "checklist_id": "text",
    "run_id": "text",
    "step_id": "text",
    "starter": "int",
    "owner": "int",
    "increment_id": "int",
    "position": "int",
    "date": "date",
    "created_at": "date",
    "updated_at": "date",
    "completed_at": "date",
    "deadline": "date",
    "is_public": "bool",
    "starred": "bool",
    "required": "bool",
    "is_oneoff_task": "bool",
}

# The fields each result type can be filtered on (`date` is created_at, `starter` its author).
TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    "blueprint": (
        "title",
        "description",
        "starter",
        "owner",
        "date",
        "created_at",
        "updated_at",
        "type",
        "is_public",
        "starred",
        "increment_id",
    ),
    "process": (
        "title",
        "name",
        "description",
        "starter",
        "owner",
        "date",
        "created_at",
        "updated_at",
        "completed_at",
        "status",
        "type",
        "is_public",
        "starred",
        "increment_id",
        "checklist_id",
    ),
    "task": (
        "title",
        "description",
        "starter",
        "date",
        "created_at",
        "updated_at",
        "completed_at",
        "deadline",
        "status",
        "type",
        "task_type",
        "run_id",
        "checklist_id",
        "step_id",
        "increment_id",
        "position",
        "is_oneoff_task",
    ),
    "snippet": ("title", "description", "starter", "date", "created_at", "updated_at"),
    "step": (
        "title",
        "description",
        "type",
        "step_type",
        "position",
        "checklist_id",
        "date",
        "created_at",
        "updated_at",
    ),
    "capture": (
        "title",
        "label",
        "description",
        "type",
        "field_type",
        "required",
        "position",
        "checklist_id",
        "step_id",
        "date",
        "created_at",
        "updated_at",
    ),
}


@dataclass(frozen=True)
class Moment:
    """A date value: a bare day covers [start, end); a date-time is one instant (end None)."""

    start: datetime
    end: datetime | None


@dataclass(frozen=True)
class Condition:
    field: str
    operation: str
    value: str | int | bool | Moment


@dataclass(frozen=True)
class Group:
    operator: str  # AND | OR
    children: tuple[Condition | Group, ...]


Node = Condition | Group
_KEY = re.compile(r"^filter((?:\[[^\[\]]*\])+)$")


def _bad(key: str, message: str) -> AppError:
    return invalid_field(key, message)


def _tree(items: Iterable[tuple[str, str]]) -> dict[str, Any] | None:
    tree: dict[str, Any] = {}
    found = False
    for key, value in items:
        if key == "filter":
            raise _bad(
                "filter",
                "The filter must be an array (filter[field], filter[value], "
                "...); a filter string is not accepted.",
            )
        match = _KEY.match(key)
        if not match:
            continue
        found = True
        parts = re.findall(r"\[([^\[\]]*)\]", match.group(1))
        node = tree
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            current = node.get(part)
            if last:
                if current is not None:
                    raise _bad(
                        key, f"The {key} is given more than once or conflicts with a nested filter."
                    )
                node[part] = value
            else:
                if isinstance(current, str):
                    raise _bad(key, f"The {key} conflicts with another filter key.")
                node = node.setdefault(part, {})
    return tree if found else None


def parse(items: Iterable[tuple[str, str]]) -> Node | None:
    tree = _tree(items)
    return None if tree is None else _node(tree, "filter", 1, [0])


def _node(tree: dict[str, Any], path: str, depth: int, count: list[int]) -> Node:
    if depth > MAX_DEPTH:
        raise _bad(path, f"Filter groups may nest at most {MAX_DEPTH} levels.")
    if tree and all(k.isdigit() for k in tree):
        return _group(tree, path, depth, count)
    count[0] += 1
    if count[0] > MAX_CONDITIONS:
        raise _bad("filter", f"A filter may hold at most {MAX_CONDITIONS} conditions.")
    return _condition(tree, path)


def _group(tree: dict[str, Any], path: str, depth: int, count: list[int]) -> Group:
    head = tree.get("0")
    if (
        not isinstance(head, dict)
        or str(head.get("type", "")).lower() != "boolean"
        or set(head) - {"type", "value"}
    ):
        raise _bad(
            f"{path}.0",
            "A filter group must start with "
            f"{path}[0][type]=boolean and {path}[0][value]=AND or OR.",
        )
    operator = str(head.get("value", "")).upper()
    if operator not in LOGICAL:
        raise _bad(f"{path}.0.value", "The logical operator must be AND or OR.")
    children = []
    for key in sorted((k for k in tree if k != "0"), key=int):
        child = tree[key]
        if not isinstance(child, dict):
            raise _bad(
                f"{path}.{key}",
                "Each entry of a filter group must be a condition or a nested group.",
            )
        children.append(_node(child, f"{path}.{key}", depth + 1, count))
    if not children:
        raise _bad(path, "A filter group needs at least one condition after its operator.")
    return Group(operator, tuple(children))


def _condition(tree: dict[str, Any], path: str) -> Condition:
    unknown = sorted(set(tree) - {"type", "field", "operation", "value"})
    if unknown:
        raise _bad(
            f"{path}.{unknown[0]}",
            "A filter condition takes only type, field, operation and value.",
        )
    if any(not isinstance(v, str) for v in tree.values()):
        raise _bad(path, "A filter condition's type, field, operation and value are single values.")
    if tree.get("type", "field") != "field":
        raise _bad(
            f"{path}.type",
            "The filter type must be field (or boolean as the first entry of a group).",
        )
    field = tree.get("field", "").strip()
    if not field:
        raise _bad(f"{path}.field", "The filter field is required.")
    if field not in FIELD_KINDS:
        raise _bad(f"{path}.field", f"The filter field {field!r} is not supported.")
    if "value" not in tree:
        raise _bad(f"{path}.value", "The filter value is required.")
    operation = tree.get("operation", "=").strip() or "="
    if operation not in OPERATIONS:
        raise _bad(
            f"{path}.operation", f"The filter operation must be one of {' '.join(OPERATIONS)}."
        )
    kind = FIELD_KINDS[field]
    if kind == "bool" and operation not in ("=", "<>", "!="):
        raise _bad(f"{path}.operation", f"The filter field {field!r} only takes = <> !=.")
    return Condition(field, operation, _value(kind, tree["value"], f"{path}.value"))


def _value(kind: str, raw: str, key: str) -> str | int | bool | Moment:
    text = raw.strip()
    if kind == "int":
        if not re.fullmatch(r"-?\d{1,18}", text):
            raise _bad(key, "The filter value must be a whole number.")
        return int(text)
    if kind == "bool":
        if text.lower() not in ("true", "false", "1", "0"):
            raise _bad(key, "The filter value must be true or false.")
        return text.lower() in ("true", "1")
    if kind == "date":
        return _moment(text, key)
    return raw


def _moment(text: str, key: str) -> Moment:
    try:
        if re.fullmatch(r"\d{4}-\d\d-\d\d", text):
            day = date.fromisoformat(text)
            start = parse_datetime(f"{day.isoformat()}T00:00:00Z")
            return Moment(start, start + timedelta(days=1))
        return Moment(parse_datetime(text), None)
    except (ValueError, TypeError):
        raise _bad(key, "The filter value is not a valid date (YYYY-MM-DD or ISO 8601).") from None


def fields_of(node: Node) -> set[str]:
    if isinstance(node, Condition):
        return {node.field}
    return set().union(*(fields_of(c) for c in node.children))


def check_fields(node: Node, kinds: Iterable[str]) -> None:
    """Every field must exist on every type searched: 422 naming the allowed ones."""
    used = fields_of(node)
    for kind in kinds:
        missing = sorted(used - set(TYPE_FIELDS[kind]))
        if missing:
            raise _bad(
                "filter",
                f"The filter field {missing[0]!r} is not available on {kind}; "
                f"allowed: {', '.join(TYPE_FIELDS[kind])}.",
            )
