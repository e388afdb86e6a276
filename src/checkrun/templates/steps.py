"""Step and form-field rules: append order, contiguous positions, assignee checks, and the
dependencies (rules, deadline anchors) that make a step or field undeletable."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit.auth import Actor, require_not_light
from checkrun.kit.errors import AppError, invalid_field, not_found
from checkrun.kit.text import slugify
from checkrun.members.repository import MembersRepository
from checkrun.templates.models import Capture, Checklist, Step
from checkrun.templates.repository import TemplatesRepository
from checkrun.templates.schemas import (
    STEP_RULES,
    CaptureCreate,
    CapturePosition,
    CaptureRead,
    MoveCapture,
    StepCreate,
    StepRead,
)
from checkrun.templates.service import copy_capture, copy_step, get_checklist, new_capture


async def _editable(db: AsyncSession, actor: Actor, checklist_id: str) -> Checklist:
    require_not_light(actor)
    return await get_checklist(db, actor, checklist_id)


async def _step(db: AsyncSession, checklist: Checklist, step_id: str) -> Step:
    step = await TemplatesRepository(db).step(checklist.id, step_id)
    if step is None:
        raise not_found()
    return step


async def _check_assignees(db: AsyncSession, actor: Actor, body: StepCreate) -> None:
    known = await MembersRepository(db).existing_user_ids(actor.org_id, body.assignees)
    for i, user_id in enumerate(body.assignees):
        if user_id not in known:
            raise invalid_field(f"assignees.{i}", "The selected assignees is invalid.")


def _apply(step: Step, body: StepCreate) -> None:
    """PUT semantics: every field is set from the body; absent assignee keys detach everyone."""
    step.title, step.summary, step.step_type = body.title, body.summary, body.step_type
    step.deadline = body.deadline.model_dump() if body.deadline else None
    step.assignees, step.guests, step.groups = body.assignees, body.guests, body.groups
    step.assign_run_starter, step.webhook = body.assign_run_starter, body.webhook
    for name in STEP_RULES:
        setattr(step, name, getattr(body, name))


async def read_step(db: AsyncSession, step: Step) -> StepRead:
    captures = await TemplatesRepository(db).captures_of_steps([step.id])
    return StepRead.of(step, captures.get(step.id))


async def create_step(
    db: AsyncSession, actor: Actor, checklist_id: str, body: StepCreate
) -> StepRead:
    checklist = await _editable(db, actor, checklist_id)
    await _check_assignees(db, actor, body)
    repo = TemplatesRepository(db)
    step = Step(checklist_id=checklist.id, alias=slugify(body.title, 40),
                position=await repo.next_step_position(checklist.id))
    _apply(step, body)
    repo.add(step)
    await db.flush()
    return StepRead.of(step)


async def get_step(db: AsyncSession, actor: Actor, checklist_id: str, step_id: str) -> StepRead:
    checklist = await get_checklist(db, actor, checklist_id)
    return await read_step(db, await _step(db, checklist, step_id))


async def update_step(
    db: AsyncSession, actor: Actor, checklist_id: str, step_id: str, body: StepCreate
) -> StepRead:
    checklist = await _editable(db, actor, checklist_id)
    step = await _step(db, checklist, step_id)
    await _check_assignees(db, actor, body)
    _apply(step, body)
    await db.flush()
    return await read_step(db, step)


def _rule_targets(rules: list[dict[str, Any]]) -> set[str]:
    """Every step or field id a rule reads or acts on."""
    ids: set[str] = set()
    for rule in rules:
        ids |= {str(c.get("conditionable_id")) for c in rule.get("conditions", [])}
        ids |= {str(a.get("target_step_id")) for a in rule.get("then_actions", [])}
    return ids


async def delete_step(db: AsyncSession, actor: Actor, checklist_id: str, step_id: str) -> None:
    checklist = await _editable(db, actor, checklist_id)
    step = await _step(db, checklist, step_id)
    repo = TemplatesRepository(db)
    steps = (await repo.steps_of([checklist.id]))[checklist.id]
    captures = await repo.captures_of_steps([step.id])
    used = _rule_targets(checklist.automated_actions or [])
    if step.id in used or {c.id for c in captures.get(step.id, [])} & used:
        raise AppError(422, "This step is used by an automation rule; change the rule first.",
                       "STEP_IN_USE")
    if any((s.deadline or {}).get("step") == step.id for s in steps if s.id != step.id):
        raise AppError(422, "Another step's deadline is relative to this step; change it first.",
                       "STEP_IN_USE")
    await repo.delete_step(step.id)
    await _renumber(db, [s for s in steps if s.id != step.id])


async def _renumber(db: AsyncSession, steps: list[Step]) -> None:
    for position, step in enumerate(steps, start=1):
        step.position = position
    await db.flush()


async def reorder_step(
    db: AsyncSession, actor: Actor, checklist_id: str, step_id: str, position: int
) -> StepRead:
    checklist = await _editable(db, actor, checklist_id)
    step = await _step(db, checklist, step_id)
    others = [s for s in (await TemplatesRepository(db).steps_of([checklist.id]))[checklist.id]
              if s.id != step.id]
    others.insert(min(position, len(others) + 1) - 1, step)
    await _renumber(db, others)
    return await read_step(db, step)


async def clone_step(db: AsyncSession, actor: Actor, checklist_id: str, step_id: str) -> StepRead:
    checklist = await _editable(db, actor, checklist_id)
    step = await _step(db, checklist, step_id)
    repo = TemplatesRepository(db)
    copy = copy_step(step, checklist.id, await repo.next_step_position(checklist.id))
    repo.add(copy)
    await db.flush()
    for capture in (await repo.captures_of_steps([step.id])).get(step.id, []):
        repo.add(copy_capture(capture, step_id=copy.id))
    await db.flush()
    return await read_step(db, copy)


async def _capture(db: AsyncSession, step: Step, capture_id: str) -> Capture:
    capture = (await TemplatesRepository(db).captures_of_steps([step.id])).get(step.id, [])
    found = next((c for c in capture if c.id == capture_id), None)
    if found is None:
        raise not_found()
    return found


async def get_capture(
    db: AsyncSession, actor: Actor, checklist_id: str, step_id: str, capture_id: str
) -> CaptureRead:
    checklist = await get_checklist(db, actor, checklist_id)
    step = await _step(db, checklist, step_id)
    return CaptureRead.of(await _capture(db, step, capture_id))


async def update_capture(
    db: AsyncSession, actor: Actor, checklist_id: str, step_id: str, capture_id: str,
    body: CaptureCreate,
) -> CaptureRead:
    checklist = await _editable(db, actor, checklist_id)
    capture = await _capture(db, await _step(db, checklist, step_id), capture_id)
    fresh = new_capture(capture.org_id, body, capture.position)
    for name in ("field_type", "label", "guidance", "position", "required", "options",
                 "columns", "settings"):
        setattr(capture, name, getattr(fresh, name))
    await db.flush()
    return CaptureRead.of(capture)


def refuse_if_in_rule(checklist: Checklist, capture_id: str) -> None:
    if capture_id in _rule_targets(checklist.automated_actions or []):
        raise AppError(403, "Cannot delete a form field that is being used in a rule in other "
                       "steps.", "FIELD_IN_USE")


async def delete_capture(
    db: AsyncSession, actor: Actor, checklist_id: str, step_id: str, capture_id: str
) -> None:
    checklist = await _editable(db, actor, checklist_id)
    step = await _step(db, checklist, step_id)
    capture = await _capture(db, step, capture_id)
    refuse_if_in_rule(checklist, capture.id)
    repo = TemplatesRepository(db)
    await repo.delete_captures([capture.id])
    await _renumber_captures(db, step)


async def _renumber_captures(db: AsyncSession, step: Step) -> None:
    captures = (await TemplatesRepository(db).captures_of_steps([step.id])).get(step.id, [])
    for position, capture in enumerate(captures, start=1):
        capture.position = position
    await db.flush()


async def move_capture(
    db: AsyncSession, actor: Actor, checklist_id: str, step_id: str, capture_id: str,
    body: MoveCapture,
) -> CaptureRead:
    checklist = await _editable(db, actor, checklist_id)
    source = await _step(db, checklist, step_id)
    target = await _step(db, checklist, body.target_step_id)
    capture = await _capture(db, source, capture_id)
    capture.step_id = target.id
    capture.position = body.position or 10_000
    await db.flush()
    await _renumber_captures(db, source)
    await _renumber_captures(db, target)
    return CaptureRead.of(capture)


async def place_capture(
    db: AsyncSession, actor: Actor, checklist_id: str, step_id: str, body: CapturePosition
) -> list[CaptureRead]:
    checklist = await _editable(db, actor, checklist_id)
    step = await _step(db, checklist, step_id)
    capture = await _capture(db, step, body.capture_id)
    others = [c for c in (await TemplatesRepository(db).captures_of_steps([step.id]))[step.id]
              if c.id != capture.id]
    others.insert(min(body.position, len(others) + 1) - 1, capture)
    for position, item in enumerate(others, start=1):
        item.position = position
    await db.flush()
    return [CaptureRead.of(c) for c in others]


async def delete_prerun(
    db: AsyncSession, actor: Actor, checklist_id: str, prerun_id: str
) -> None:
    checklist = await _editable(db, actor, checklist_id)
    repo = TemplatesRepository(db)
    fields = (await repo.prerun_of([checklist.id])).get(checklist.id, [])
    if prerun_id not in {f.id for f in fields}:
        raise not_found()
    refuse_if_in_rule(checklist, prerun_id)
    await repo.delete_captures([prerun_id])
