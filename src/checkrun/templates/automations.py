"""Automation rules: stored inline on the template, evaluated against form values.

A rule is `{id, automated_alias, condition_logic (AND|OR), conditions[], then_actions[]}`; a
condition `{conditionable_type, conditionable_id (field id), operation, statement}`; an action
`{action_type: visibility|assignment|deadline, action_verb: show|hide|assign|set,
target_step_id, users, guests, groups, deadline{value, unit}}`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit.auth import Actor, require_not_light
from checkrun.kit.clock import iso, now
from checkrun.kit.errors import invalid, not_found
from checkrun.kit.ids import new_id
from checkrun.templates.models import Checklist
from checkrun.templates.repository import TemplatesRepository
from checkrun.templates.schemas import RuleWrite
from checkrun.templates.service import get_checklist


@dataclass(frozen=True)
class Effects:
    hidden_steps: frozenset[str] = frozenset()
    owners: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    deadlines: dict[str, dict[str, Any]] = field(default_factory=dict)


def text_of(value: Any) -> str:
    """A stored value as comparable text: option objects by their text, lists joined."""
    if isinstance(value, dict):
        return str(value.get("text", value.get("value", "")))
    if isinstance(value, list):
        return ",".join(text_of(v) for v in value)
    return "" if value is None else str(value)


def _holds(condition: dict[str, Any], values: dict[str, Any]) -> bool:
    value = values.get(str(condition.get("conditionable_id")))
    text, statement = text_of(value).strip().lower(), text_of(condition.get("statement"))
    statement = statement.strip().lower()
    operation = condition.get("operation", "equals")
    if operation == "is_empty":
        return text == ""
    if operation == "is_not_empty":
        return text != ""
    if operation == "contains":
        return statement in text
    if operation == "not_equals":
        return text != statement
    return text == statement or statement in text.split(",")


def _fires(rule: dict[str, Any], values: dict[str, Any]) -> bool:
    results = [_holds(c, values) for c in rule.get("conditions", [])]
    if str(rule.get("condition_logic", "AND")).upper() in ("OR", "ANY"):
        return any(results)
    return bool(results) and all(results)


def evaluate(rules: list[dict[str, Any]], values: dict[str, Any]) -> Effects:
    """What the rules do given these values. A step that some rule would show stays hidden
    until a show rule fires; a hide rule that fires hides it."""
    shown_by_rule = {a["target_step_id"] for r in rules for a in r.get("then_actions", [])
                     if a.get("action_verb") == "show"}
    hidden, shown = set(), set()
    owners: dict[str, dict[str, list[Any]]] = {}
    deadlines: dict[str, dict[str, Any]] = {}
    for rule in rules:
        if not _fires(rule, values):
            continue
        for action in rule.get("then_actions", []):
            target, verb = action["target_step_id"], action.get("action_verb")
            if verb == "hide":
                hidden.add(target)
            elif verb == "show":
                shown.add(target)
            elif action.get("action_type") == "assignment":
                owners[target] = {k: list(action.get(k) or []) for k in
                                  ("users", "guests", "groups")}
            elif action.get("action_type") == "deadline" and action.get("deadline"):
                deadlines[target] = dict(action["deadline"])
    return Effects(frozenset(hidden | (shown_by_rule - shown)), owners, deadlines)


async def _editable(db: AsyncSession, actor: Actor, checklist_id: str) -> Checklist:
    require_not_light(actor)
    return await get_checklist(db, actor, checklist_id)


async def _check_references(db: AsyncSession, checklist: Checklist, body: RuleWrite) -> None:
    repo = TemplatesRepository(db)
    steps = (await repo.steps_of([checklist.id])).get(checklist.id, [])
    fields = {f.id for f in (await repo.prerun_of([checklist.id])).get(checklist.id, [])}
    captures = await repo.captures_of_steps([s.id for s in steps])
    fields |= {c.id for group in captures.values() for c in group}
    errors: dict[str, list[str]] = {}
    for i, condition in enumerate(body.conditions):
        if condition.conditionable_id not in fields:
            errors[f"conditions.{i}.conditionable_id"] = ["No such form field in this template."]
    for i, action in enumerate(body.then_actions):
        if action.target_step_id not in {s.id for s in steps}:
            errors[f"then_actions.{i}.target_step_id"] = ["No such step in this template."]
    if errors:
        raise invalid(errors)


def _stored(rule_id: str, body: RuleWrite, created_at: str | None) -> dict[str, Any]:
    logic = body.condition_logic.upper()
    return {"id": rule_id, **body.model_dump(mode="json", exclude_none=True),
            "condition_logic": {"ALL": "AND", "ANY": "OR"}.get(logic, logic),
            "created_at": created_at or iso(now()), "last_updated": iso(now())}


async def create_rule(
    db: AsyncSession, actor: Actor, checklist_id: str, body: RuleWrite
) -> dict[str, Any]:
    checklist = await _editable(db, actor, checklist_id)
    await _check_references(db, checklist, body)
    rule = _stored(new_id(), body, None)
    checklist.automated_actions = [*(checklist.automated_actions or []), rule]
    await db.flush()
    return rule


async def update_rule(
    db: AsyncSession, actor: Actor, checklist_id: str, rule_id: str, body: RuleWrite
) -> dict[str, Any]:
    checklist = await _editable(db, actor, checklist_id)
    rules = list(checklist.automated_actions or [])
    index = next((i for i, r in enumerate(rules) if r.get("id") == rule_id), None)
    if index is None:
        raise not_found()
    await _check_references(db, checklist, body)
    rules[index] = _stored(rule_id, body, rules[index].get("created_at"))
    checklist.automated_actions = rules
    await db.flush()
    return rules[index]


async def delete_rule(db: AsyncSession, actor: Actor, checklist_id: str, rule_id: str) -> None:
    checklist = await _editable(db, actor, checklist_id)
    rules = [r for r in checklist.automated_actions or [] if r.get("id") != rule_id]
    if len(rules) == len(checklist.automated_actions or []):
        raise not_found()
    checklist.automated_actions = rules
    await db.flush()
