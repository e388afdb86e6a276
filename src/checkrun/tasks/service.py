"""Task rules: one-off create, archive/restore/permanent delete, reads with includes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.files.blobs import commit_then_discard
from checkrun.files.repository import FilesRepository
from checkrun.kit.auth import Actor, require_admin, require_not_light
from checkrun.kit.clock import now, parse_datetime
from checkrun.kit.errors import bad_request, invalid, invalid_field, not_found
from checkrun.kit.ids import new_id
from checkrun.kit.includes import Includes
from checkrun.kit.pagination import PageParams
from checkrun.members.repository import MembersRepository
from checkrun.orgs.repository import OrgsRepository
from checkrun.runs.models import Run
from checkrun.runs.repository import RunsRepository
from checkrun.runs.rules import apply_rules, sync_run_status
from checkrun.storage import BlobStore
from checkrun.tasks.models import Task
from checkrun.tasks.repository import TaskFilters, TasksRepository
from checkrun.tasks.schemas import FormFieldRead, OneOffTaskCreate, Owners, TaskRead, TaskUpdate
from checkrun.templates.schemas import CaptureRead
from checkrun.templates.service import copy_capture, new_capture
from checkrun.templates.values import ValueContext, clean_values

PROCESS_TASK_REFUSAL = (
    "This task belongs to a process. Process tasks can only be removed with their process."
)


async def check_owners(db: AsyncSession, org_id: str, owners: Owners) -> None:
    known = await MembersRepository(db).existing_user_ids(org_id, owners.users)
    for i, user_id in enumerate(owners.users):
        if user_id not in known:
            raise invalid_field(f"owners.users.{i}", "The selected owners.users is invalid.")


async def _host_run(db: AsyncSession, actor: Actor, run_id: str | None) -> Run | None:
    """The run a one-off task is added to: it must allow ad-hoc tasks."""
    if run_id is None:
        return None
    run = await RunsRepository(db).get(actor.org_id, run_id)
    if run is None or run.deleted_at is not None:
        raise invalid_field("run_id", "The selected run id is invalid.")
    if not run.can_add_oot:
        raise invalid_field("run_id", "Ad-hoc tasks not allowed for this process")
    return run


async def create_one_off(db: AsyncSession, actor: Actor, body: OneOffTaskCreate) -> Task:
    if body.owners.is_empty():
        raise invalid_field("owners", "The task needs at least one assignee.")
    await check_owners(db, actor.org_id, body.owners)
    run = await _host_run(db, actor, body.run_id)
    number = await OrgsRepository(db).next_number(actor.org_id, "task")
    repo = TasksRepository(db)
    position = body.position or (await repo.last_position(run.id) + 1 if run else 1)
    task = Task(
        org_id=actor.org_id, increment_id=number, title=body.title,
        run_id=run.id if run else None, checklist_id=run.checklist_id if run else None,
        summary=body.summary if body.summary is not None else body.description,
        task_type=body.task_type, status="not-started", position=position,
        deadline=parse_datetime(body.deadline),
        started_at=parse_datetime(body.started_at) if body.started_at else now(),
        starter_id=actor.user_id, everyone_must_complete=body.everyone_must_complete,
        can_complete_only_assignees=body.can_complete_only_assignees,
        prevent_guest_comment=body.prevent_guest_comment, max_assignable=body.max_assignable,
        webhook=body.webhook, top_secret=body.top_secret,
        owners=repo.owner_rows(body.owners.users, body.owners.guests, body.owners.groups),
    )
    repo.add(task)
    await db.flush()
    for i, field in enumerate(body.form_fields, start=1):
        repo.add(new_capture(actor.org_id, field, i, task_id=task.id))
    await db.flush()
    await sync_run_status(db, task.run_id)
    return task


async def clone_task(db: AsyncSession, actor: Actor, task_id: str) -> Task:
    """A fresh, not-started copy: same title, type, owners, deadline and form fields (not
    their values); a process task's copy joins its run as an ad-hoc task."""
    source = await get_task(db, actor, task_id)
    repo = TasksRepository(db)
    copy = Task(**{c.key: getattr(source, c.key) for c in Task.__table__.columns
                   if c.key in CLONED})
    copy.id, copy.org_id, copy.status, copy.starter_id = new_id(), actor.org_id, "not-started", \
        actor.user_id
    copy.increment_id = await OrgsRepository(db).next_number(actor.org_id, "task")
    copy.position = await repo.last_position(source.run_id) + 1 if source.run_id else 1
    copy.owners = repo.owner_rows(*_owner_lists(source))
    repo.add(copy)
    await db.flush()
    for capture in (await repo.fields_of([source]))[source.id]:
        repo.add(copy_capture(capture, task_id=copy.id, step_id=None))
    await db.flush()
    return copy


CLONED = ("run_id", "checklist_id", "title", "summary", "task_type", "deadline", "started_at",
          "everyone_must_complete", "can_complete_only_assignees", "prevent_guest_comment",
          "max_assignable", "webhook", "top_secret")


def _owner_lists(task: Task) -> tuple[list[int], list[str], list[str]]:
    return ([int(o.ref) for o in task.owners if o.kind == "user"],
            [o.ref for o in task.owners if o.kind == "guest"],
            [o.ref for o in task.owners if o.kind == "group"])


async def get_task(
    db: AsyncSession, actor: Actor, task_id: str, run_id: str | None = None
) -> Task:
    """The task, addressed through its run when `run_id` is given (another run's task is 404)."""
    task = await TasksRepository(db).get(actor.org_id, task_id)
    if task is None or (run_id is not None and task.run_id != run_id):
        raise not_found()
    return task


async def _one_off(db: AsyncSession, actor: Actor, task_id: str, admin_only: bool) -> Task:
    """The task behind an archive/restore/delete: found (404), permitted (403), one-off (400)."""
    task = await get_task(db, actor, task_id)
    if admin_only:
        require_admin(actor)
    else:
        require_not_light(actor)
    if task.run_id is not None:
        raise bad_request(PROCESS_TASK_REFUSAL)
    return task


async def archive_one_off(db: AsyncSession, actor: Actor, task_id: str) -> Task:
    task = await _one_off(db, actor, task_id, admin_only=False)
    if task.deleted_at is None:
        task.deleted_at = now()
        await FilesRepository(db).set_archived(task_id=task.id, when=task.deleted_at)
        await db.flush()
    return task


async def restore_one_off(db: AsyncSession, actor: Actor, task_id: str) -> Task:
    task = await _one_off(db, actor, task_id, admin_only=False)
    if task.deleted_at is not None:
        await FilesRepository(db).restore_archived(task_id=task.id)
        task.deleted_at = None
        await db.flush()
    return task


async def purge_one_off(db: AsyncSession, store: BlobStore, actor: Actor, task_id: str) -> None:
    task = await _one_off(db, actor, task_id, admin_only=True)
    keys = await FilesRepository(db).storage_keys(task_ids=[task.id])
    await TasksRepository(db).purge(task.id)
    await commit_then_discard(db, store, keys)


async def update_task(
    db: AsyncSession, actor: Actor, task_id: str, body: TaskUpdate, api_base: str,
    run_id: str | None = None,
) -> Task:
    task = await get_task(db, actor, task_id, run_id)
    if task.status == "completed":
        raise invalid_field("status", "Completed tasks can't be updated. Reopen the task first.")
    if task.deleted_at is not None:
        raise invalid_field("archived_at", "Archived tasks can't be updated. Restore it first.")
    if task.run_id is None:
        _require_one_off_fields(body)
    await _apply_changes(db, actor, task, body)
    if body.taskdata:
        repo = TasksRepository(db)
        fields = (await repo.fields_of([task]))[task.id]
        ctx = ValueContext(db=db, org_id=actor.org_id, api_base=api_base)
        await repo.save_values(task, await clean_values(ctx, fields, body.taskdata, "taskdata"))
    await db.flush()
    if body.taskdata and task.run_id is not None:
        run = await RunsRepository(db).get_by_id(task.run_id)
        if run is not None:
            await apply_rules(db, run)
    return task


def _require_one_off_fields(body: TaskUpdate) -> None:
    missing = {
        name: [f"The {name} field is required."]
        for name in ("title", "deadline", "owners")
        if getattr(body, name) is None
    }
    if missing:
        raise invalid(missing)


async def _apply_changes(db: AsyncSession, actor: Actor, task: Task, body: TaskUpdate) -> None:
    if body.owners is not None:
        await check_owners(db, actor.org_id, body.owners)
        task.owners = TasksRepository.owner_rows(
            body.owners.users, body.owners.guests, body.owners.groups
        )
    if body.deadline is not None:
        task.deadline = parse_datetime(body.deadline)
    if body.started_at is not None:
        task.started_at = parse_datetime(body.started_at)
    for name in ("title", "summary", "webhook", "prevent_guest_comment", "everyone_must_complete",
                 "can_complete_only_assignees", "max_assignable", "top_secret"):
        value = getattr(body, name)
        if value is not None:
            setattr(task, name, value)
    task.updated_at = now()


async def read_tasks(db: AsyncSession, tasks: list[Task], includes: Includes) -> list[TaskRead]:
    repo = TasksRepository(db)
    values = await repo.values_of([t.id for t in tasks])
    reads = [TaskRead.of(t, values.get(t.id)) for t in tasks]
    if includes.wants("form_fields"):
        fields = await repo.fields_of(tasks)
        for read in reads:
            read.form_fields = {  # type: ignore[attr-defined]
                "data": [
                    FormFieldRead(**CaptureRead.of(c).model_dump(),
                                  value=read.taskdata.get(c.id)).model_dump()
                    for c in fields.get(read.id, [])
                ]
            }
    return reads


def _flag(value: str | None) -> bool | None:
    return {"true": True, "1": True, "false": False, "0": False}.get((value or "").lower())


def _date(name: str, value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        raise invalid_field(name, f"The {name} is not a valid date.") from None


def task_filters(
    status: str | None = None, q: str | None = None, archived: str | None = None,
    is_oneoff: str | None = None, owners: str | None = None, unassigned: str | None = None,
    sort: str | None = None, sort_by: str | None = None, deadline_before: str | None = None,
    deadline_after: str | None = None,
) -> TaskFilters:
    """The documented list query parameters (a FastAPI dependency: names are the API's)."""
    return TaskFilters(
        status=status, q=q, archived=archived, is_oneoff=_flag(is_oneoff),
        owners=tuple(int(o) for o in (owners or "").split(",") if o.strip().isdigit()),
        unassigned=bool(_flag(unassigned)), sort=sort or sort_by,
        deadline_before=_date("deadline_before", deadline_before),
        deadline_after=_date("deadline_after", deadline_after),
    )


async def list_tasks(
    db: AsyncSession, actor: Actor, page: PageParams, filters: TaskFilters
) -> tuple[list[Task], int]:
    return await TasksRepository(db).search(actor.org_id, page, filters)


async def list_member_tasks(
    db: AsyncSession, actor: Actor, page: PageParams, filters: TaskFilters, user_id: int,
    default_status: str | None = None,
) -> tuple[list[Task], int]:
    """A member's tasks (`/me/tasks`, `/users/{id}/tasks`); an unknown member is 404."""
    if not await MembersRepository(db).existing_user_ids(actor.org_id, [user_id]):
        raise not_found()
    status = filters.status or default_status
    return await TasksRepository(db).search(
        actor.org_id, page, replace(filters, owners=(user_id,), status=status)
    )
