"""Step and form-field rules: append order, contiguous positions, assignee and deadline checks,
and the dependencies (rules, deadline anchors) that make a step or field undeletable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.groups.service import check_group_ids
from checkrun.kit.auth import Actor
from checkrun.kit.errors import AppError, invalid, invalid_field, not_found
from checkrun.kit.pagination import PageParams
from checkrun.kit.text import slugify
from checkrun.kit.validation import laravel_errors
from checkrun.tags.service import check_tag_ids
from checkrun.templates.automations import referenced_ids
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
from checkrun.templates.service import (
    check_members,
    copy_capture,
    copy_step,
    editable,
    get_checklist,
    new_capture,
    record,
    redefine,
    refuse_if_in_rule,
)


async def _record_step(
    db: AsyncSession,
    actor: Actor,
    checklist: Checklist,
    step_id: str,
    verb: str,
    description: str,
    **more: object,
) -> None:
    """An activity entry about a step of this template (its form fields included)."""
    await record(
        db,
        actor,
        checklist,
        verb,
        description,
        type="Step",
        entity_type="step",
        entity_id=step_id,
        **more,
    )


async def _step(db: AsyncSession, checklist: Checklist, step_id: str) -> Step:
    step = await TemplatesRepository(db).step(checklist.id, step_id)
    if step is None:
        raise not_found()
    return step


async def _check_step(
    db: AsyncSession,
    actor: Actor,
    checklist: Checklist,
    body: StepCreate,
    step_id: str | None = None,
) -> None:
    """Assignees must be members; a deadline may count from another step of this template."""
    await check_members(db, actor.org_id, body.assignees, "assignees")
    await check_group_ids(db, actor.org_id, body.groups)
    await check_tag_ids(db, actor.org_id, body.tags or [], "tags")
    # The template a completed task launches (runs/subprocesses.py): one of this organization.
    target = (body.bp_to_launch or {}).get("id")
    if target is not None and (
        not isinstance(target, str)
        or await TemplatesRepository(db).get(actor.org_id, target) is None
    ):
        raise invalid_field("bp_to_launch.id", "The selected bp to launch id is invalid.")
    anchor = body.deadline.step if body.deadline else None
    if anchor is None:
        return
    if anchor == step_id or await TemplatesRepository(db).step(checklist.id, anchor) is None:
        raise invalid_field("deadline.step", "The selected deadline step is invalid.")


def _apply(step: Step, body: StepCreate) -> None:
    """PUT semantics: every field is set from the body; absent assignee keys detach everyone."""
    step.title, step.summary, step.step_type = body.title, body.summary, body.step_type
    step.deadline = body.deadline.model_dump() if body.deadline else None
    step.assignees, step.guests, step.groups = body.assignees, body.guests, body.groups
    step.assign_run_starter, step.webhook = body.assign_run_starter, body.webhook
    step.start_date = body.start_date.model_dump() if body.start_date else None
    for name in STEP_RULES:
        setattr(step, name, getattr(body, name))
    step.settings = body.extra_settings()


async def read_step(db: AsyncSession, step: Step) -> StepRead:
    captures = await TemplatesRepository(db).captures_of_steps([step.id])
    return StepRead.of(step, captures.get(step.id))


async def create_step(
    db: AsyncSession, actor: Actor, checklist_id: str, body: StepCreate
) -> StepRead:
    """Always appended: a sent position is ignored, as Tallyfy does."""
    checklist = await editable(db, actor, checklist_id)
    await _check_step(db, actor, checklist, body)
    repo = TemplatesRepository(db)
    step = Step(
        checklist_id=checklist.id,
        alias=slugify(body.title, 40),
        position=await repo.next_step_position(checklist.id),
    )
    _apply(step, body)
    repo.add(step)
    await db.flush()
    await _record_step(db, actor, checklist, step.id, "created", f"Added step {step.title}")
    return StepRead.of(step)


async def list_steps(
    db: AsyncSession, actor: Actor, checklist_id: str, page: PageParams
) -> tuple[list[StepRead], int]:
    checklist = await get_checklist(db, actor, checklist_id)
    repo = TemplatesRepository(db)
    steps, total = await repo.steps_page(checklist.id, page)
    captures = await repo.captures_of_steps([s.id for s in steps])
    return [StepRead.of(s, captures.get(s.id)) for s in steps], total


async def get_step(db: AsyncSession, actor: Actor, checklist_id: str, step_id: str) -> StepRead:
    checklist = await get_checklist(db, actor, checklist_id)
    return await read_step(db, await _step(db, checklist, step_id))


async def update_step(
    db: AsyncSession, actor: Actor, checklist_id: str, step_id: str, body: StepCreate
) -> StepRead:
    checklist = await editable(db, actor, checklist_id)
    step = await _step(db, checklist, step_id)
    await _check_step(db, actor, checklist, body, step.id)
    _apply(step, body)
    await db.flush()
    await _record_step(db, actor, checklist, step.id, "updated", f"Updated step {step.title}")
    return await read_step(db, step)


def _in_use(message: str) -> AppError:
    return AppError(422, message, "STEP_IN_USE")


async def delete_step(db: AsyncSession, actor: Actor, checklist_id: str, step_id: str) -> None:
    """Refused while a rule reads or targets the step (or one of its fields), or another
    step's deadline counts from it."""
    checklist = await editable(db, actor, checklist_id)
    step = await _step(db, checklist, step_id)
    repo = TemplatesRepository(db)
    steps = (await repo.steps_of([checklist.id]))[checklist.id]
    captures = await repo.captures_of_steps([step.id])
    used = referenced_ids(checklist.automated_actions or [])
    if step.id in used or {c.id for c in captures.get(step.id, [])} & used:
        raise _in_use("This step is used by an automation rule; change the rule first.")
    if any((s.deadline or {}).get("step") == step.id for s in steps if s.id != step.id):
        raise _in_use("Another step's deadline is relative to this step; change it first.")
    await repo.delete_step(step.id)
    await _renumber(db, [s for s in steps if s.id != step.id])
    await _record_step(db, actor, checklist, step.id, "deleted", f"Deleted step {step.title}")


async def _renumber(db: AsyncSession, steps: list[Step]) -> None:
    for position, step in enumerate(steps, start=1):
        step.position = position
    await db.flush()


async def reorder_step(
    db: AsyncSession, actor: Actor, checklist_id: str, step_id: str, position: int
) -> StepRead:
    """The step moves to `position` (1-based; past the end means last); the others shift."""
    checklist = await editable(db, actor, checklist_id)
    step = await _step(db, checklist, step_id)
    others = [
        s
        for s in (await TemplatesRepository(db).steps_of([checklist.id]))[checklist.id]
        if s.id != step.id
    ]
    old = step.position
    others.insert(min(position, len(others) + 1) - 1, step)
    await _renumber(db, others)
    await _record_step(
        db,
        actor,
        checklist,
        step.id,
        "re-ordered",
        f"Moved step {step.title}",
        field="position",
        old_value=old,
        new_value=step.position,
    )
    return await read_step(db, step)


async def clone_step(db: AsyncSession, actor: Actor, checklist_id: str, step_id: str) -> StepRead:
    """A copy at the end, with copies of its fields; rules are not copied."""
    checklist = await editable(db, actor, checklist_id)
    step = await _step(db, checklist, step_id)
    repo = TemplatesRepository(db)
    copy = copy_step(step, checklist.id, await repo.next_step_position(checklist.id))
    repo.add(copy)
    await db.flush()
    for capture in (await repo.captures_of_steps([step.id])).get(step.id, []):
        repo.add(copy_capture(capture, step_id=copy.id))
    await db.flush()
    await _record_step(
        db,
        actor,
        checklist,
        copy.id,
        "created",
        f"Cloned step {step.title}",
        extra={"cloned_from": step.id},
    )
    return await read_step(db, copy)


async def _captures(db: AsyncSession, step: Step) -> list[Capture]:
    return (await TemplatesRepository(db).captures_of_steps([step.id])).get(step.id, [])


async def _capture(db: AsyncSession, step: Step, capture_id: str) -> Capture:
    found = next((c for c in await _captures(db, step) if c.id == capture_id), None)
    if found is None:
        raise not_found()
    return found


async def create_capture(
    db: AsyncSession, actor: Actor, checklist_id: str, step_id: str, body: CaptureCreate
) -> CaptureRead:
    checklist = await editable(db, actor, checklist_id)
    step = await _step(db, checklist, step_id)
    capture = new_capture(actor.org_id, body, len(await _captures(db, step)) + 1, step_id=step.id)
    TemplatesRepository(db).add(capture)
    await db.flush()
    await _record_step(
        db,
        actor,
        checklist,
        step.id,
        "updated",
        f"Added form field {capture.label}",
        field="form_fields",
        new_value=capture.label,
        extra={"capture_id": capture.id},
    )
    return CaptureRead.of(capture)


async def get_capture(
    db: AsyncSession, actor: Actor, checklist_id: str, step_id: str, capture_id: str
) -> CaptureRead:
    checklist = await get_checklist(db, actor, checklist_id)
    step = await _step(db, checklist, step_id)
    return CaptureRead.of(await _capture(db, step, capture_id))


async def update_capture(
    db: AsyncSession,
    actor: Actor,
    checklist_id: str,
    step_id: str,
    capture_id: str,
    body: CaptureCreate,
) -> CaptureRead:
    checklist = await editable(db, actor, checklist_id)
    capture = await _capture(db, await _step(db, checklist, step_id), capture_id)
    old = capture.label
    redefine(capture, body, capture.position)
    await db.flush()
    await _record_step(
        db,
        actor,
        checklist,
        step_id,
        "updated",
        f"Updated form field {capture.label}",
        field="form_fields",
        old_value=old,
        new_value=capture.label,
        extra={"capture_id": capture.id},
    )
    return CaptureRead.of(capture)


async def delete_capture(
    db: AsyncSession, actor: Actor, checklist_id: str, step_id: str, capture_id: str
) -> None:
    """Its collected values go with it; refused (403) while a rule reads it."""
    checklist = await editable(db, actor, checklist_id)
    step = await _step(db, checklist, step_id)
    capture = await _capture(db, step, capture_id)
    refuse_if_in_rule(checklist, capture.id)
    await TemplatesRepository(db).delete_captures([capture.id])
    await _renumber_captures(db, step)
    await _record_step(
        db,
        actor,
        checklist,
        step.id,
        "updated",
        f"Removed form field {capture.label}",
        field="form_fields",
        old_value=capture.label,
        extra={"capture_id": capture.id},
    )


async def _renumber_captures(db: AsyncSession, step: Step) -> None:
    for position, capture in enumerate(await _captures(db, step), start=1):
        capture.position = position
    await db.flush()


async def move_capture(
    db: AsyncSession,
    actor: Actor,
    checklist_id: str,
    step_id: str,
    capture_id: str,
    body: MoveCapture,
) -> CaptureRead:
    checklist = await editable(db, actor, checklist_id)
    source = await _step(db, checklist, step_id)
    target = await _step(db, checklist, body.target_step_id)
    capture = await _capture(db, source, capture_id)
    others = [c for c in await _captures(db, target) if c.id != capture.id]
    capture.step_id = target.id
    others.insert(min(body.position or len(others) + 1, len(others) + 1) - 1, capture)
    for position, item in enumerate(others, start=1):
        item.position = position
    await db.flush()
    await _renumber_captures(db, source)
    await _record_step(
        db,
        actor,
        checklist,
        target.id,
        "updated",
        f"Moved form field {capture.label}",
        field="form_fields",
        new_value=capture.label,
        extra={"capture_id": capture.id, "from_step_id": source.id},
    )
    return CaptureRead.of(capture)


async def place_capture(
    db: AsyncSession, actor: Actor, checklist_id: str, step_id: str, body: CapturePosition
) -> list[CaptureRead]:
    checklist = await editable(db, actor, checklist_id)
    step = await _step(db, checklist, step_id)
    capture = await _capture(db, step, body.capture_id)
    others = [c for c in await _captures(db, step) if c.id != capture.id]
    others.insert(min(body.position, len(others) + 1) - 1, capture)
    for position, item in enumerate(others, start=1):
        item.position = position
    await db.flush()
    await _record_step(
        db,
        actor,
        checklist,
        step.id,
        "updated",
        f"Moved form field {capture.label}",
        field="form_fields",
        new_value=capture.label,
        extra={"capture_id": capture.id},
    )
    return [CaptureRead.of(c) for c in others]


async def delete_prerun(db: AsyncSession, actor: Actor, checklist_id: str, prerun_id: str) -> None:
    """A kick-off field; its values in runs go with it. Refused (403) while a rule reads it."""
    checklist = await editable(db, actor, checklist_id)
    repo = TemplatesRepository(db)
    fields = (await repo.prerun_of([checklist.id])).get(checklist.id, [])
    if prerun_id not in {f.id for f in fields}:
        raise not_found()
    refuse_if_in_rule(checklist, prerun_id)
    await repo.delete_captures([prerun_id])
    label = next(f.label for f in fields if f.id == prerun_id)
    await record(
        db,
        actor,
        checklist,
        "updated",
        f"Removed kick-off field {label}",
        field="prerun",
        old_value=label,
        extra={"capture_id": prerun_id},
    )


# For the web app: the whole outline in one read, partial step edits, one-place moves, and
# kick-off fields one at a time (the API replaces the kick-off form as a whole).


@dataclass(frozen=True)
class Outline:
    checklist: Checklist
    steps: list[Step]
    captures: dict[str, list[Capture]]
    prerun: list[Capture]


async def outline(db: AsyncSession, actor: Actor, checklist_id: str) -> Outline:
    """A live template with its steps in order, each step's fields and the kick-off fields."""
    checklist = await get_checklist(db, actor, checklist_id)
    repo = TemplatesRepository(db)
    steps = (await repo.steps_of([checklist.id])).get(checklist.id, [])
    captures = await repo.captures_of_steps([s.id for s in steps])
    prerun = (await repo.prerun_of([checklist.id])).get(checklist.id, [])
    return Outline(checklist, steps, captures, prerun)


async def edit_step(
    db: AsyncSession, actor: Actor, checklist_id: str, step_id: str, changes: dict[str, Any]
) -> StepRead:
    """The step as it is with `changes` applied (a PUT would reset what it doesn't send)."""
    checklist = await editable(db, actor, checklist_id)
    step = await _step(db, checklist, step_id)
    current = StepRead.of(step).model_dump(exclude={"captures"})
    try:
        body = StepCreate.model_validate({**current, **changes})
    except ValidationError as exc:
        raise invalid(laravel_errors(exc.errors())) from None
    return await update_step(db, actor, checklist_id, step_id, body)


async def move_step(
    db: AsyncSession, actor: Actor, checklist_id: str, step_id: str, offset: int
) -> StepRead:
    """One place up (-1) or down (+1) from where the step is now; the ends stay put."""
    checklist = await editable(db, actor, checklist_id)
    step = await _step(db, checklist, step_id)
    return await reorder_step(db, actor, checklist_id, step_id, max(1, step.position + offset))


async def _prerun_fields(db: AsyncSession, checklist: Checklist) -> list[Capture]:
    return (await TemplatesRepository(db).prerun_of([checklist.id])).get(checklist.id, [])


async def create_prerun(
    db: AsyncSession, actor: Actor, checklist_id: str, body: CaptureCreate
) -> CaptureRead:
    """A kick-off field appended to the template's kick-off form."""
    checklist = await editable(db, actor, checklist_id)
    position = len(await _prerun_fields(db, checklist)) + 1
    field = new_capture(actor.org_id, body, position, checklist_id=checklist.id, is_prerun=True)
    TemplatesRepository(db).add(field)
    await db.flush()
    await record(
        db,
        actor,
        checklist,
        "updated",
        f"Added kick-off field {field.label}",
        field="prerun",
        new_value=field.label,
        extra={"capture_id": field.id},
    )
    return CaptureRead.of(field)


async def update_prerun(
    db: AsyncSession, actor: Actor, checklist_id: str, prerun_id: str, body: CaptureCreate
) -> CaptureRead:
    checklist = await editable(db, actor, checklist_id)
    field = next((f for f in await _prerun_fields(db, checklist) if f.id == prerun_id), None)
    if field is None:
        raise not_found()
    old = field.label
    redefine(field, body, field.position)
    await db.flush()
    await record(
        db,
        actor,
        checklist,
        "updated",
        f"Updated kick-off field {field.label}",
        field="prerun",
        old_value=old,
        new_value=field.label,
        extra={"capture_id": field.id},
    )
    return CaptureRead.of(field)
