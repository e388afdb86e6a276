"""Automation rules, evaluated: a pure function of the template's rules and the form values.

A stored rule is `{id, automated_alias, condition_logic: AND|OR, conditions[], then_actions[]}`;
a condition `{conditionable_type: Capture|Prerun, conditionable_id (field id), operation,
statement}`; an action `{action_type: visibility|assignment|deadline, action_verb:
show|hide|assign|set, target_step_id, assignees {users, guests, groups}, deadline {value, unit}}`.
No database here: the workflow engine calls `evaluate` at launch and whenever values change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

OWNER_KINDS = ("users", "guests", "groups")


@dataclass(frozen=True)
class Effects:
    hidden_steps: frozenset[str] = frozenset()
    # step id -> {"users": [...], "guests": [...], "groups": [...]}: replaces the assignees.
    owners: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    # step id -> {"value": int, "unit": str}: the deadline relative to launch.
    deadlines: dict[str, dict[str, Any]] = field(default_factory=dict)


def text_of(value: Any) -> str:
    """A stored value as text: option objects by their text, lists joined with commas."""
    return ",".join(_texts(value))


def _texts(value: Any) -> list[str]:
    """The comparable pieces of a stored value: one per selected option, else one string."""
    if value is None:
        return []
    if isinstance(value, list):
        return [t for item in value if _selected(item) for t in _texts(item)]
    if isinstance(value, dict):
        if "text" in value:
            return [str(value["text"] or "")]
        if any(kind in value for kind in OWNER_KINDS):
            return [str(v) for kind in OWNER_KINDS for v in value.get(kind) or []]
        # A file (asset) or another object: present when it names something.
        return [str(value.get("filename") or value.get("value") or value.get("id") or "")]
    return [str(value)]


def _selected(item: Any) -> bool:
    # A multiselect keeps its unticked options with `selected: false`.
    return not (isinstance(item, dict) and item.get("selected") is False)


def _option_ids(value: Any) -> set[str]:
    items = value if isinstance(value, list) else [value]
    return {str(i["id"]) for i in items if isinstance(i, dict) and "id" in i and _selected(i)}


def _norm(text: str) -> str:
    return text.strip().casefold()


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _compare(texts: list[str], statement: str, test: Callable[[float, float], bool]) -> bool:
    wanted = _number(statement)
    numbers = [_number(t) for t in texts]
    return wanted is not None and any(n is not None and test(n, wanted) for n in numbers)


def _equals(value: Any, texts: list[str], statement: str) -> bool:
    """A list equals the statement when one of its selected items does; an option also matches
    by its id, so a rule may name a dropdown choice either way."""
    return statement in texts or statement in _option_ids(value)


def holds(condition: dict[str, Any], values: dict[str, Any]) -> bool:
    """Whether one condition is true for these values (case-insensitive, trimmed)."""
    value = values.get(str(condition.get("conditionable_id")))
    texts = [t for t in (_norm(t) for t in _texts(value)) if t]
    statement = _norm(text_of(condition.get("statement")))
    operation = str(condition.get("operation") or "equals").lower()
    if operation == "is_empty":
        return not texts
    if operation == "is_not_empty":
        return bool(texts)
    if operation == "equals":
        return _equals(value, texts, statement)
    if operation == "not_equals":
        return not _equals(value, texts, statement)
    if operation == "contains":
        return any(statement in t for t in texts)
    if operation == "not_contains":
        return not any(statement in t for t in texts)
    if operation == "greater_than":
        return _compare(texts, statement, lambda a, b: a > b)
    if operation == "less_than":
        return _compare(texts, statement, lambda a, b: a < b)
    return False


def matches_any(rule: dict[str, Any]) -> bool:
    """OR logic: `condition_logic` OR, or the `condition_type`/`match` spelling `any`."""
    logic = rule.get("condition_logic") or rule.get("condition_type") or rule.get("match")
    return str(logic or "AND").strip().upper() in ("OR", "ANY")


def fires(rule: dict[str, Any], values: dict[str, Any]) -> bool:
    results = [holds(c, values) for c in rule.get("conditions") or []]
    if matches_any(rule):
        return any(results)
    return bool(results) and all(results)


def owners_of(action: dict[str, Any]) -> dict[str, list[Any]]:
    """An assignment's people, nested under `assignees` or (as sent by some clients) flat."""
    nested = action.get("assignees")
    if not isinstance(nested, dict):
        nested = {}
    return {k: list(nested.get(k) or action.get(k) or []) for k in OWNER_KINDS}


def _actions(rules: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for rule in rules:
        yield from (a for a in rule.get("then_actions") or [] if isinstance(a, dict))


def evaluate(rules: list[dict[str, Any]], values: dict[str, Any]) -> Effects:
    """What the rules do given these values (field id -> stored value).

    A step that some rule would show stays hidden until a show rule fires; a hide rule that
    fires hides it, even when a show rule fires too. When several firing rules assign or set
    the deadline of one step, the last rule in template order wins."""
    show_targets = {
        a.get("target_step_id") for a in _actions(rules) if a.get("action_verb") == "show"
    }
    hidden: set[str] = set()
    shown: set[str] = set()
    owners: dict[str, dict[str, list[Any]]] = {}
    deadlines: dict[str, dict[str, Any]] = {}
    for action in _actions(r for r in rules if fires(r, values)):
        target, verb = str(action.get("target_step_id")), action.get("action_verb")
        if verb == "hide":
            hidden.add(target)
        elif verb == "show":
            shown.add(target)
        elif action.get("action_type") == "assignment":
            owners[target] = owners_of(action)
        elif action.get("action_type") == "deadline" and isinstance(action.get("deadline"), dict):
            deadline = action["deadline"]
            deadlines[target] = {
                "value": int(deadline.get("value") or 0),
                "unit": str(deadline.get("unit") or "days"),
            }
    never_shown = {str(t) for t in show_targets} - shown
    return Effects(frozenset(hidden | never_shown), owners, deadlines)


def referenced_ids(rules: list[dict[str, Any]]) -> set[str]:
    """Every field id a rule reads and every step id it acts on."""
    ids = {str(c.get("conditionable_id")) for r in rules for c in r.get("conditions") or []}
    return ids | {str(a.get("target_step_id")) for a in _actions(rules)}
