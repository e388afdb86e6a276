"""Completing and reopening tasks, and what that does to their run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.comments.repository import CommentsRepository, Issues
from checkrun.kit import events
from checkrun.kit.auth import Actor
from checkrun.kit.clock import now
from checkrun.kit.errors import bad_request, forbidden, invalid, invalid_field, not_found
from checkrun.members.repository import MembersRepository
from checkrun.orgs.repository import OrgsRepository
from checkrun.runs.models import Run
from checkrun.runs.repository import RunContext, RunsRepository
from checkrun.runs.rules import BY_SYSTEM, REOPENED, apply_rules, sync_run_status
from checkrun.runs.shell import SUBPROCESS
from checkrun.tasks import deadlines
from checkrun.tasks.access import require_assigned_if_light
from checkrun.tasks.models import Task
from checkrun.tasks.repository import TaskBasics, TasksRepository, issues_at_lock
from checkrun.tasks.schemas import CompleteTask
from checkrun.templates.models import Checklist
from checkrun.templates.values import is_empty

PROCESS_ROUTE = "This task belongs to a process: complete it through its run's completed-tasks."


@dataclass
class Locked:
    """A task and its run, both locked, with the run's organization and template; holding
    them keeps them in the session, so what follows the change (deadlines, reminders,
    webhooks, the rules, the run's status) reads them without a statement."""

    task: Task
    run: Run | None
    context: RunContext | None = None


async def _task(db: AsyncSession, actor: Actor, task_id: str, run_id: str | None) -> Locked:
    """Process-scoped routes take only that run's tasks; the org route only tasks of no step.
    The task comes locked: what follows decides on its state, once."""
    if run_id is not None:
        # The path names the run to lock first: a task of another run is a 404 all the same.
        found = await _lock(db, actor.org_id, task_id, run_id)
        if found.task.run_id != run_id:
            raise not_found()
        return found
    placed = await TasksRepository(db).placement(actor.org_id, task_id)
    if placed is None or (run_id is not None and placed.run_id != run_id):
        raise not_found()
    if run_id is None and placed.step_id is not None:
        raise bad_request(PROCESS_ROUTE)
    return await _lock(db, actor.org_id, task_id, placed.run_id)


async def _lock(db: AsyncSession, org_id: str, task_id: str, run_id: str | None) -> Locked:
    context = None
    if run_id is not None:
        context = await RunsRepository(db).lock_in_context(org_id, run_id)
    locked = await TasksRepository(db).lock(org_id, task_id)
    if locked is None:
        raise not_found()
    return Locked(locked, context.run if context else None, context)


async def lock_task(db: AsyncSession, task: Task) -> Task:
    """Locks the task's run, then the task (always in this order), and answers the task as
    committed now: concurrent changes of one task, or of the last tasks of one run, happen one
    after the other, each seeing the one before. 404 if the task went meanwhile."""
    return (await _lock(db, task.org_id, task.id, task.run_id)).task


async def _template(db: AsyncSession, run: Run | None) -> Checklist | None:
    """The run's template, archived or not, as the webhooks and the rules read it."""
    return await db.get(Checklist, run.checklist_id) if run and run.checklist_id else None


def _assignees(task: Task) -> set[int]:
    return {int(o.ref) for o in task.owners if o.kind == "user"}


def check_open_for_completion(task: Task, is_approved: bool | None) -> None:
    """What the task itself must be for any completion: live, open, answered if an approval."""
    if task.deleted_at is not None:
        raise invalid_field("task_id", "Archived tasks can't be completed.")
    if task.status in ("completed", "auto-skipped"):
        raise invalid_field("task_id", f"This task can't be completed: it is {task.status}.")
    if task.task_type == "approval" and is_approved is None:
        raise invalid_field("is_approved", "The is approved field is required")


async def check_no_open_issue(db: AsyncSession, task: Task, issues: Issues | None = None) -> Issues:
    """Answers the issues it read (`issues`, when the task's lock read them): its run's status
    by them is the same after the change."""
    if issues is None:
        issues = await CommentsRepository(db).open_issues_around(task.org_id, task.id, task.run_id)
    if issues.task:
        raise invalid_field(
            "task_id", "This task has an open issue: resolve it before completing the task."
        )
    if issues.process:
        raise invalid_field(
            "task_id",
            "This process has an open issue: its tasks can't be completed until it is resolved.",
        )
    return issues


async def check_required_fields(db: AsyncSession, task: Task) -> None:
    if task.has_required_field is False and not (task.version is not None and task.step_id):
        return  # its lock read that none of the template's fields is required
    repo = TasksRepository(db)
    required = [f for f in (await repo.fields_of([task]))[task.id] if f.required]
    if not required:
        return
    values = (await repo.values_of([task.id])).get(task.id, {})
    missing = {
        f"taskdata.{f.id}": [f"{f.label} is required"]
        for f in required
        if is_empty(values.get(f.id))
    }
    if missing:
        raise invalid(missing)


async def _check_completable(
    db: AsyncSession, actor: Actor, task: Task, body: CompleteTask, issues: Issues | None
) -> Issues:
    check_open_for_completion(task, body.is_approved)
    issues = await check_no_open_issue(db, task, issues)
    if (
        task.can_complete_only_assignees
        and not actor.is_admin
        and actor.user_id not in _assignees(task)
    ):
        raise forbidden("Only the assignees of this task can complete it.")
    await check_required_fields(db, task)
    return issues


async def _completer(db: AsyncSession, actor: Actor, body: CompleteTask) -> int:
    """Who completes: the caller, or the member named by `override_user` (not for light
    members, who complete only their own work)."""
    if body.override_user is None or body.override_user == actor.user_id:
        return actor.user_id
    if actor.is_light:
        raise forbidden("Light members can't complete tasks on behalf of someone else.")
    if not await MembersRepository(db).existing_user_ids(actor.org_id, [body.override_user]):
        raise invalid_field("override_user", "The selected override user is invalid.")
    return body.override_user


async def _all_done(db: AsyncSession, task: Task, completer: int) -> bool:
    """An `everyone_must_complete` task counts each assignee's completion and is done when
    every member assignee has completed it."""
    assignees = _assignees(task)
    if not (task.everyone_must_complete and assignees):
        return True
    repo = TasksRepository(db)
    if completer in await repo.completions_of(task.id):
        raise invalid_field("task_id", "You have already completed this task.")
    return assignees <= await repo.record_completion(task.id, completer)


@dataclass(frozen=True)
class Completed:
    """A person's completion, and what its answer reads with the task: the values its lock
    read, and no open issue (the completion was refused with one, and issues are reported
    under the locks it holds); None when the lock did not read them."""

    task: Task
    basics: TaskBasics | None


def _basics_at_lock(task: Task) -> TaskBasics | None:
    # Read now: a later load of the task (populating it afresh) unloads the lock's extras.
    if task.has_required_field is None:
        return None
    return TaskBasics({task.id: task.locked_values or {}}, set(), set())


async def complete(
    db: AsyncSession, actor: Actor, body: CompleteTask, run_id: str | None = None
) -> Completed:
    locked = await _task(db, actor, body.task_id, run_id)
    task = locked.task
    basics = _basics_at_lock(task)
    # The issues the task's lock read are current only under its run's lock, which every
    # issue's writer takes first: a `FOR UPDATE` that waited on the task alone answers its
    # other columns from the snapshot it started with (a one-off task's issues are read anew).
    issues_read = issues_at_lock(task) if locked.run is not None else None
    # Held for the request (read with the run, else now): its reminder rules (at the flush)
    # and calendar (deadlines) are then read once.
    org = await OrgsRepository(db).get(actor.org_id)
    await require_assigned_if_light(db, actor, task, "complete")
    issues = await _check_completable(db, actor, task, body, issues_read)
    completer = await _completer(db, actor, body)
    if not await _all_done(db, task, completer):
        task.status = "in-progress"
        await db.flush()
        return Completed(task, basics)
    # Held too: the webhooks and the rules read the run's template after the change (the
    # session keeps a row only while something holds it).
    template = await _template(db, locked.run)
    await TasksRepository(db).write(task, _completion(task, completer, body.is_approved))
    found = await deadlines.follow(db, task)
    await _emit(db, actor, task, "completed")
    # Nothing since changed an issue or a task of the run (the run's lock keeps others out),
    # unless the completion launched a sub-process: its steps may have joined the run.
    launches = SUBPROCESS in (task.settings or {})
    tasks = found.tasks if found is not None and not launches else None
    await sync_run_status(db, task.run_id, actor, issues=issues, tasks=tasks)
    await _rules_after(db, locked.run, actor, task)
    del org, locked, template, found
    return Completed(task, basics)


async def complete_by_system(db: AsyncSession, task: Task, is_approved: bool | None) -> bool:
    """The scheduler's completion (an expiring task at its deadline, an overdue task past the
    organization's limit): no person, so no role, assignee, form or issue check; the task
    only has to be open still once locked. Answers whether it completed it."""
    task = await lock_task(db, task)
    if task.deleted_at is not None or task.status in ("completed", "auto-skipped"):
        return False
    task.status, task.completed_at, task.completer_id = "completed", now(), None
    task.is_approved = is_approved
    mark_completed(task, by_system=True)
    await db.flush()
    await deadlines.follow(db, task)
    await _emit(db, None, task, "completed")
    await sync_run_status(db, task.run_id, None)
    if task.run_id is not None:
        await _rules_after(db, await RunsRepository(db).get_by_id(task.run_id), None, task)
    return True


async def reopen(db: AsyncSession, actor: Actor, task_id: str, run_id: str | None = None) -> Task:
    locked = await _task(db, actor, task_id, run_id)
    task = locked.task
    await require_assigned_if_light(db, actor, task, "reopen")
    if (
        task.can_complete_only_assignees
        and not actor.is_admin
        and actor.user_id not in _assignees(task)
    ):
        raise forbidden("Only the assignees of this task can reopen it.")
    if task.deleted_at is not None:
        raise invalid_field("task_id", "Archived tasks can't be reopened.")
    if task.status != "completed":
        raise invalid_field("task_id", "This task is not completed.")
    await reopen_completed(db, actor, task)
    return task


async def reopen_completed(db: AsyncSession, actor: Actor, task: Task) -> None:
    """Back to in-progress (also when an issue is reported on a completed task); the rules
    then see it reopened."""
    await reopen_without_rules(db, actor, task)
    if task.run_id is not None:
        await _rules_after(db, await RunsRepository(db).get_by_id(task.run_id), actor)


async def _rules_after(
    db: AsyncSession, run: Run | None, actor: Actor | None, completed: Task | None = None
) -> None:
    """A task completed or reopened: the run's rules may now decide otherwise."""
    if run is not None and run.deleted_at is None:
        await apply_rules(db, run, actor, completed=completed)


def mark_completed(task: Task, by_system: bool) -> None:
    settings = _completed_settings(task, by_system)
    if settings is not None:
        task.settings = settings


def _completed_settings(task: Task, by_system: bool) -> dict[str, Any] | None:
    """What step conditions read of a completion: no longer reopened; expired when the
    scheduler completed it (nobody acknowledged it in time). None: no change."""
    settings = {k: v for k, v in (task.settings or {}).items() if k not in (REOPENED, BY_SYSTEM)}
    if by_system:
        settings[BY_SYSTEM] = True
    return settings if settings != (task.settings or {}) else None


def _completion(task: Task, completer: int, is_approved: bool | None) -> dict[str, Any]:
    """The columns a person's completion changes. A completed task has no reminder due."""
    values = {
        "status": "completed",
        "completed_at": now(),
        "completer_id": completer,
        "is_approved": is_approved,
        "remind_at": None,
    }
    settings = _completed_settings(task, by_system=False)
    return values if settings is None else {**values, "settings": settings}


async def reopen_without_rules(db: AsyncSession, actor: Actor | None, task: Task) -> None:
    """The reopen itself (a rule's status action calls this: its rules run already)."""
    task.status, task.completed_at, task.completer_id, task.is_approved = (
        "in-progress",
        None,
        None,
        None,
    )
    if task.step_id is not None:
        kept = {k: v for k, v in (task.settings or {}).items() if k != BY_SYSTEM}
        task.settings = {**kept, REOPENED: True}
    await TasksRepository(db).clear_completions(task.id)
    await db.flush()
    await deadlines.follow(db, task)
    await _emit(db, actor, task, "re-opened")
    await sync_run_status(db, task.run_id, actor)


async def _emit(db: AsyncSession, actor: Actor | None, task: Task, verb: str) -> None:
    await events.emit(
        db,
        events.Event(
            org_id=task.org_id,
            type="Task",
            verb=verb,
            entity_type="task",
            entity_id=task.id,
            task_id=task.id,
            run_id=task.run_id,
            checklist_id=task.checklist_id,
            description=f"{verb.capitalize()} {task.title}",
            **events.by(actor),
        ),
    )
