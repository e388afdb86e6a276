"""A process task's automatic deadline: what the rules give it now, and putting it back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit import events
from checkrun.kit.auth import Actor
from checkrun.kit.clock import iso, now
from checkrun.kit.errors import bad_request, forbidden, invalid_field, not_found
from checkrun.tasks import deadlines
from checkrun.tasks.access import require_assigned_if_light
from checkrun.tasks.completion import lock_task
from checkrun.tasks.models import Task
from checkrun.tasks.repository import TasksRepository
from checkrun.tasks.schemas import AutomaticDeadlineRead, DeadlineRule

ONE_OFF = "This is a one-off task: its deadline is set by hand, there is no automatic deadline."


async def _process_task(db: AsyncSession, actor: Actor, run_id: str, task_id: str) -> Task:
    task = await TasksRepository(db).get(actor.org_id, task_id)
    if task is None or task.run_id != run_id:
        raise not_found()
    if task.step_id is None:
        raise bad_request(ONE_OFF)
    return task


async def _worked_out(db: AsyncSession, task: Task) -> tuple[AutomaticDeadlineRead, datetime]:
    found = await deadlines.run_tasks(db, task.run_id or "")
    step = task.step_id or ""
    if found is None or step not in found.by_step:
        raise not_found()
    planned = found.plan({step})
    rule, on = found.rules[step], planned.anchored_on.get(step)
    anchor_task = found.by_step[on] if on else None
    automatic = planned.deadlines[step]
    return AutomaticDeadlineRead(
        task_id=task.id,
        deadline=iso(automatic) or "",
        current_deadline=iso(task.deadline),
        deadline_set_by_hand=task.deadline_set_by_hand,
        is_current=task.deadline == automatic,
        rule=DeadlineRule.model_validate(rule.as_dict()),
        rule_source="default" if rule.source == "default" else "step",
        counted_from=(
            "launch"
            if anchor_task is None
            else "step_completion"
            if anchor_task.status == "completed"
            else "step_deadline"
        ),
        anchor=iso(deadlines.anchor_moment(anchor_task) if anchor_task else found.run.started_at)
        or "",
        anchor_task_id=anchor_task.id if anchor_task else None,
        timezone=found.week.zone.key,
    ), automatic


async def automatic_deadline(
    db: AsyncSession, actor: Actor, run_id: str, task_id: str
) -> AutomaticDeadlineRead:
    """Anyone who may read the task may ask; completed and archived tasks answer too."""
    read, _ = await _worked_out(db, await _process_task(db, actor, run_id, task_id))
    return read


async def reset_deadline(db: AsyncSession, actor: Actor, run_id: str, task_id: str) -> Task:
    """The automatic deadline back on the task, the by-hand flag cleared: who may change a
    task's deadline may do it (not light members), on a task still open and live."""
    task = await lock_task(db, await _process_task(db, actor, run_id, task_id))
    await require_assigned_if_light(db, actor, task, "update")
    if actor.is_light:
        raise forbidden("Light members can only fill in the form fields of their tasks.")
    if task.status == "completed":
        raise invalid_field("status", "Completed tasks can't be updated. Reopen the task first.")
    if task.deleted_at is not None:
        raise invalid_field("archived_at", "Archived tasks can't be updated. Restore it first.")
    before = task.deadline
    _, task.deadline = await _worked_out(db, task)
    task.deadline_set_by_hand, task.updated_at = False, now()
    await db.flush()
    await events.emit(
        db,
        events.Event(
            org_id=task.org_id,
            type="Task",
            verb="updated",
            entity_type="task",
            entity_id=task.id,
            task_id=task.id,
            run_id=task.run_id,
            checklist_id=task.checklist_id,
            description=f"Reset the deadline of {task.title}",
            field="deadline",
            old_value=before,
            new_value=task.deadline,
            **events.by(actor),
        ),
    )
    if task.deadline != before:
        await deadlines.follow(db, task)
    return task
