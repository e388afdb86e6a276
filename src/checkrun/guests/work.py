"""What a guest does through their link, without an account: see their own tasks in their
organization, fill their form fields, complete them, comment (unless the task forbids it).
The same rules as a member's completion where they apply; a guest never reaches another
person's task (404) nor a thread hidden from guests."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.comments.models import Comment
from checkrun.comments.repository import CommentsRepository
from checkrun.guests.models import Guest
from checkrun.guests.repository import GuestsRepository
from checkrun.kit import events
from checkrun.kit.clock import now
from checkrun.kit.errors import AppError, forbidden, invalid_field, not_found
from checkrun.kit.pagination import PageParams
from checkrun.runs import variables
from checkrun.runs.repository import RunsRepository
from checkrun.runs.rules import apply_rules, sync_run_status
from checkrun.tasks.completion import (
    check_no_open_issue,
    check_open_for_completion,
    check_required_fields,
    lock_task,
    mark_completed,
)
from checkrun.tasks.models import ReadableTask, Task
from checkrun.tasks.repository import TaskFilters, TasksRepository
from checkrun.templates.values import ValueContext, clean_values

MAX_COMMENT = 65_535


async def guest_by_code(db: AsyncSession, code: str) -> Guest:
    """The guest behind a link: unknown or removed is 404, disabled 403."""
    guest = await GuestsRepository(db).by_link_code(code.strip()) if code.strip() else None
    if guest is None:
        raise not_found()
    if guest.is_disabled:
        raise forbidden("This guest access has been disabled by the organization.")
    return guest


async def tasks_of(
    db: AsyncSession, guest: Guest, status: str, page: PageParams
) -> tuple[list[ReadableTask], int]:
    sort = "completed_newest" if status == "completed" else "deadline"
    return await TasksRepository(db).search(
        guest.org_id, page, TaskFilters(guests=(guest.email,), status=status, sort=sort)
    )


async def task_of(db: AsyncSession, guest: Guest, task_id: str) -> Task:
    """One of the guest's own live tasks; anyone else's is not found."""
    task = await TasksRepository(db).get(guest.org_id, task_id)
    if (
        task is None
        or task.deleted_at is not None
        or not any(o.kind == "guest" and o.ref == guest.email for o in task.owners)
    ):
        raise not_found()
    return task


def _event(
    guest: Guest,
    task: Task,
    type_: str,
    verb: str,
    entity_type: str,
    entity_id: str,
    description: str,
    **more: Any,
) -> events.Event:
    return events.Event(
        org_id=guest.org_id,
        type=type_,
        verb=verb,
        entity_type=entity_type,
        entity_id=entity_id,
        actor_type="guest",
        actor_email=guest.email,
        source="Guest",
        run_id=task.run_id,
        task_id=task.id,
        checklist_id=task.checklist_id,
        description=description,
        **more,
    )


def check_open(task: Task) -> None:
    """A guest changes (fills, attaches files to) only a task still to do."""
    if task.status in ("completed", "auto-skipped"):
        raise invalid_field("task_id", f"This task can't be changed: it is {task.status}.")


async def save_values(
    db: AsyncSession, guest: Guest, task: Task, taskdata: dict[str, Any], api_base: str
) -> None:
    task = await lock_task(db, task)
    check_open(task)
    repo = TasksRepository(db)
    fields = (await repo.fields_of([task]))[task.id]
    ctx = ValueContext(db=db, org_id=guest.org_id, api_base=api_base)
    await repo.save_values(task, await clean_values(ctx, fields, taskdata, "taskdata"))
    task.updated_at = now()
    await db.flush()
    await events.emit(
        db,
        _event(
            guest,
            task,
            "Task",
            "updated",
            "task",
            task.id,
            f"Updated the form fields of {task.title}",
            field="taskdata",
            new_value=taskdata,
        ),
    )
    run = await RunsRepository(db).get_by_id(task.run_id) if task.run_id else None
    if run is not None:
        await variables.refresh(db, run)
        await apply_rules(db, run, None)


async def complete(db: AsyncSession, guest: Guest, task: Task, approved: bool | None) -> None:
    """As a member's completion: the run and the task are locked first, so two clicks (or the
    guest and a member at once) complete it once."""
    task = await lock_task(db, task)
    check_open_for_completion(task, approved)
    await check_no_open_issue(db, task)
    await check_required_fields(db, task)
    task.status, task.completed_at, task.completer_id = "completed", now(), None
    task.is_approved = approved if task.task_type == "approval" else None
    mark_completed(task, by_system=False)
    await db.flush()
    await events.emit(
        db, _event(guest, task, "Task", "completed", "task", task.id, f"Completed {task.title}")
    )
    await sync_run_status(db, task.run_id, None)
    run = await RunsRepository(db).get_by_id(task.run_id) if task.run_id else None
    if run is not None:
        await apply_rules(db, run, None, completed=task)


async def comment(db: AsyncSession, guest: Guest, task: Task, content: str) -> None:
    """Visible to guests (a guest's own words); refused when the task forbids guest comments."""
    if task.prevent_guest_comment:
        raise forbidden("Guests can't comment on this task.")
    content = content.strip()
    if not content or len(content) > MAX_COMMENT:
        raise AppError(
            422,
            "Write a comment first.",
            "VALIDATION_ERROR",
            errors={"content": ["Write a comment first."]},
        )
    thread = Comment(
        org_id=guest.org_id,
        task_id=task.id,
        run_id=task.run_id,
        author_id=guest.id,
        author_type="guest",
        content=content,
        label="comment",
        state="open",
        sent_to=[],
    )
    CommentsRepository(db).add(thread)
    await db.flush()
    await events.emit(
        db,
        _event(
            guest,
            task,
            "Comment",
            "commented",
            "thread",
            thread.id,
            f"Commented on {task.title}",
            new_value=content,
            extra={"label": "comment"},
        ),
    )
