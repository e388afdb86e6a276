"""Template import: a template as `GET /checklists/{id}?with=steps` shows it, posted back to
`POST /checklists` (the Go CLI's `blueprint import`), becomes a new template with new ids for
its steps and fields, and rules and deadline anchors that follow the new ids."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.groups.service import check_group_ids
from checkrun.kit.auth import Actor
from checkrun.kit.errors import AppError, invalid, invalid_field
from checkrun.kit.ids import new_id
from checkrun.kit.text import slugify
from checkrun.kit.validation import laravel_errors
from checkrun.tags.service import check_tag_ids
from checkrun.templates import service
from checkrun.templates.models import Checklist, Step
from checkrun.templates.repository import TemplatesRepository
from checkrun.templates.schemas import ChecklistCreate, ImportedStep, RuleWrite
from checkrun.templates.steps import _apply
from checkrun.templates.versions import is_dual, publish

DEADLINE_STEP = "The selected deadline step is invalid."


async def create_checklist(db: AsyncSession, actor: Actor, body: ChecklistCreate) -> Checklist:
    """`POST /checklists`: a plain create, or an import when steps or rules come with it. A
    template with dual versions starts published."""
    checklist = await _created(db, actor, body)
    if is_dual(checklist):
        await publish(db, checklist, actor)
    return checklist


async def _created(db: AsyncSession, actor: Actor, body: ChecklistCreate) -> Checklist:
    if not body.steps and not body.automated_actions and not any(f.id for f in body.prerun):
        return await service.create_checklist(db, actor, body)
    await _check_steps(db, actor, body.steps or [])
    checklist = await service.create_checklist(db, actor, body.model_copy(update={"prerun": []}))
    ids = _new_ids(body)
    repo = TemplatesRepository(db)
    for i, field in enumerate(body.prerun, start=1):
        capture = service.new_capture(
            actor.org_id, field, i, checklist_id=checklist.id, is_prerun=True
        )
        capture.id = ids.get(field.id or "") or new_id()
        repo.add(capture)
    await _add_steps(repo, checklist, body.steps or [], ids)
    await _add_rules(db, actor, checklist, body.automated_actions or [], ids)
    return checklist


def _new_ids(body: ChecklistCreate) -> dict[str, str]:
    """Exported id -> new id, for every step and field that carries one."""
    exported = [f.id for f in body.prerun]
    for step in body.steps or []:
        exported += [step.id, *(c.id for c in step.captures)]
    return {old: new_id() for old in exported if old}


async def _check_steps(db: AsyncSession, actor: Actor, steps: list[ImportedStep]) -> None:
    """What adding each step would check, keyed `steps.N.`; a deadline may count from another
    imported step (by its exported id)."""
    known = {s.id for s in steps if s.id}
    for i, step in enumerate(steps):
        await service.check_members(db, actor.org_id, step.assignees, f"steps.{i}.assignees")
        await check_group_ids(db, actor.org_id, step.groups, f"steps.{i}.groups")
        await check_tag_ids(db, actor.org_id, step.tags or [], f"steps.{i}.tags")
        anchor = step.deadline.step if step.deadline else None
        if anchor is not None and (anchor not in known or anchor == step.id):
            raise invalid_field(
                f"steps.{i}.deadline.step", "The selected deadline step is invalid."
            )


async def _add_steps(
    repo: TemplatesRepository, checklist: Checklist, steps: list[ImportedStep], ids: dict[str, str]
) -> None:
    """Steps in the order sent, positions 1..N, then their fields (which point at them)."""
    made = []
    for position, body in enumerate(steps, start=1):
        step = Step(
            id=ids.get(body.id or "") or new_id(),
            checklist_id=checklist.id,
            alias=slugify(body.title, 40),
            position=position,
        )
        _apply(step, body)
        if step.deadline and step.deadline.get("step"):
            step.deadline = {**step.deadline, "step": ids[step.deadline["step"]]}
        repo.add(step)
        made.append((step, body))
    await repo.db.flush()
    for step, body in made:
        for n, field in enumerate(body.captures, start=1):
            capture = service.new_capture(checklist.org_id, field, n, step_id=step.id)
            capture.id = ids.get(field.id or "") or new_id()
            repo.add(capture)
    await repo.db.flush()


async def _add_rules(
    db: AsyncSession,
    actor: Actor,
    checklist: Checklist,
    rules: list[dict[str, Any]],
    ids: dict[str, str],
) -> None:
    """Each rule as `POST .../automated-actions` would take it, after its exported ids are
    swapped for the new ones (32-hex ids, so the textual swap is exact)."""
    stored = []
    for i, rule in enumerate(rules):
        text = json.dumps(rule)
        for old, new in ids.items():
            text = text.replace(f'"{old}"', f'"{new}"')
        try:
            body = RuleWrite.model_validate(json.loads(text))
            kinds = await service._check_rule(db, actor, checklist, body)
        except ValidationError as exc:
            raise _prefixed(invalid(laravel_errors(exc.errors())), i) from None
        except AppError as exc:
            raise _prefixed(exc, i) from None
        stored.append(service._stored_rule(new_id(), body, kinds, None))
    checklist.automated_actions = stored
    await db.flush()


def _prefixed(exc: AppError, i: int) -> AppError:
    if not exc.errors:
        return exc
    return invalid({f"automated_actions.{i}.{k}": v for k, v in exc.errors.items()})
