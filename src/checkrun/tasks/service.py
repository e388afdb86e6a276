"""Task rules: one-off create, archive/restore/permanent delete, reads with includes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.comments.repository import CommentsRepository
from checkrun.files.blobs import commit_then_discard
from checkrun.files.repository import FilesRepository
from checkrun.groups.repository import GroupsRepository
from checkrun.groups.service import check_group_ids
from checkrun.guests.service import ensure_guests
from checkrun.kit import authcache, events
from checkrun.kit.auth import Actor, require_admin, require_not_light
from checkrun.kit.clock import now, parse_datetime
from checkrun.kit.errors import bad_request, forbidden, invalid, invalid_field, not_found
from checkrun.kit.ids import new_id
from checkrun.kit.includes import Includes, Page
from checkrun.kit.pagination import PageParams
from checkrun.members.repository import MembersRepository
from checkrun.orgs.repository import OrgsRepository
from checkrun.runs import variables
from checkrun.runs.models import Run
from checkrun.runs.repository import RunsRepository
from checkrun.runs.rules import apply_rules, sync_run_status
from checkrun.runs.shell import launch_shell
from checkrun.storage import BlobStore
from checkrun.tags.service import check_tag_ids, tag_subject
from checkrun.tasks import deadlines
from checkrun.tasks.access import require_assigned_if_light
from checkrun.tasks.completion import lock_task
from checkrun.tasks.includes import TASK_INCLUDES
from checkrun.tasks.models import ReadableTask, Task
from checkrun.tasks.params import user_id as parse_user_id
from checkrun.tasks.repository import (
    TaskBasics,
    TaskFilters,
    TaskPage,
    TasksRepository,
    basics_of,
)
from checkrun.tasks.schemas import OneOffTaskCreate, Owners, TaskRead, TaskUpdate
from checkrun.templates.service import copy_capture, new_capture
from checkrun.templates.values import ValueContext, clean_values

PROCESS_TASK_REFUSAL = (
    "This task belongs to a process. Process tasks can only be removed with their process."
)


async def check_owners(db: AsyncSession, org_id: str, owners: Owners, limit: int = 0) -> None:
    """Assignees must be members; `limit` (a task's max_assignable, 0 = any number) caps them."""
    count = len(owners.users) + len(owners.guests) + len(owners.groups)
    if limit and count > limit:
        raise invalid_field("owners", f"This task can have at most {limit} assignees.")
    known = await MembersRepository(db).existing_user_ids(org_id, owners.users)
    for i, user_id in enumerate(owners.users):
        if user_id not in known:
            raise invalid_field(f"owners.users.{i}", "The selected owners.users is invalid.")
    await check_group_ids(db, org_id, owners.groups, "owners.groups")
    # A guest assignee is a guest of the organization from now on (a member's email: 422).
    await ensure_guests(db, org_id, owners.guests)


async def _host_run(db: AsyncSession, actor: Actor, run_id: str | None) -> Run | None:
    """The run an ad-hoc task joins: live, and its template allows ad-hoc tasks."""
    if run_id is None:
        return None
    run = await RunsRepository(db).get(actor.org_id, run_id)
    if run is None or run.deleted_at is not None:
        raise invalid_field("run_id", "The selected run id is invalid.")
    if not run.can_add_oot:
        raise invalid_field("run_id", "Ad-hoc tasks not allowed for this process")
    return run


async def _place(repo: TasksRepository, run: Run | None, position: int | None) -> int:
    """Where a new task goes in its run: at `position` (the tasks from there on move down),
    or last."""
    if run is None:
        return 1
    last = await repo.last_position(run.id)
    if position is None or position > last:
        return last + 1
    await repo.make_room(run.id, position)
    return position


async def _record(
    db: AsyncSession, actor: Actor, task: Task, verb: str, description: str, **more: Any
) -> None:
    """An activity entry about this task."""
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
            description=description,
            **events.by(actor),
            **more,
        ),
    )


RECORDED = (
    "title",
    "summary",
    "deadline",
    "started_at",
    "position",
    "max_assignable",
    "webhook",
    "prevent_guest_comment",
    "everyone_must_complete",
    "can_complete_only_assignees",
    "top_secret",
    "task_type",
)


def _recorded(task: Task) -> dict[str, Any]:
    return {**{name: getattr(task, name) for name in RECORDED}, "owners": task.owner_lists()}


async def _record_changes(
    db: AsyncSession,
    actor: Actor,
    task: Task,
    before: dict[str, Any],
    taskdata: dict[str, Any] | None,
) -> None:
    """One entry per changed field with its old and new value (`owners-updated` for the
    assignees), and one for the form values sent."""
    after = _recorded(task)
    changed = [name for name in before if after[name] != before[name]]
    for name in changed:
        verb = "owners-updated" if name == "owners" else "updated"
        await _record(
            db,
            actor,
            task,
            verb,
            f"Updated {task.title}",
            field=name,
            old_value=before[name],
            new_value=after[name],
        )
    if taskdata:
        await _record(
            db,
            actor,
            task,
            "updated",
            f"Updated the form fields of {task.title}",
            field="taskdata",
            new_value=taskdata,
        )
    elif not changed:
        await _record(db, actor, task, "updated", f"Updated {task.title}")


async def create_one_off(db: AsyncSession, actor: Actor, body: OneOffTaskCreate) -> Task:
    """A one-off task; with `separate_task_for_each_assignee`, one task per assignee (the
    first is answered), in a new shell run unless `run_id` names one."""
    require_not_light(actor)
    if body.owners.is_empty():
        raise invalid_field("owners", "The task needs at least one assignee.")
    separate = body.separate_task_for_each_assignee
    # Each separate task has a single assignee: max_assignable caps each, not their sum.
    await check_owners(db, actor.org_id, body.owners, 0 if separate else body.max_assignable)
    tags = await check_tag_ids(db, actor.org_id, body.tags)
    run = await _host_run(db, actor, body.run_id)
    if not separate:
        return await _new_one_off(db, actor, body, run, body.owners, tags, body.position)
    each = await _each_assignee(db, actor.org_id, body.owners)
    if run is None:
        run = await launch_shell(db, actor, body.title)
    made = [
        await _new_one_off(
            db, actor, body, run, owners, tags, body.position + i if body.position else None
        )
        for i, owners in enumerate(each)
    ]
    return made[0]


async def _each_assignee(db: AsyncSession, org_id: str, owners: Owners) -> list[Owners]:
    """One assignee per task: each member, each guest, and each member and guest of each
    group (a group with nobody in it stays one task of the group's)."""
    users, guests, groups = list(owners.users), list(owners.guests), []
    repo = GroupsRepository(db)
    for group_id in dict.fromkeys(owners.groups):
        group = await repo.get(org_id, group_id)
        if group is None:
            continue
        if not (group.members or group.guests):
            groups.append(group_id)
        users += [m.user_id for m in group.members]
        guests += [g.email for g in group.guests]
    return (
        [Owners(users=[u]) for u in dict.fromkeys(users)]
        + [Owners(guests=[g]) for g in dict.fromkeys(guests)]
        + [Owners(groups=[g]) for g in groups]
    )


async def _new_one_off(
    db: AsyncSession,
    actor: Actor,
    body: OneOffTaskCreate,
    run: Run | None,
    owners: Owners,
    tags: list[str],
    position: int | None,
) -> Task:
    number = await OrgsRepository(db).next_number(actor.org_id, "task")
    repo = TasksRepository(db)
    task = Task(
        org_id=actor.org_id,
        increment_id=number,
        title=body.title,
        run_id=run.id if run else None,
        checklist_id=run.checklist_id if run else None,
        summary=body.summary if body.summary is not None else body.description,
        task_type=body.task_type,
        status="not-started",
        position=await _place(repo, run, position),
        deadline=parse_datetime(body.deadline),
        deadline_set_by_hand=True,
        started_at=parse_datetime(body.started_at) if body.started_at else now(),
        starter_id=actor.user_id,
        everyone_must_complete=body.everyone_must_complete,
        can_complete_only_assignees=body.can_complete_only_assignees,
        prevent_guest_comment=body.prevent_guest_comment,
        max_assignable=body.max_assignable,
        webhook=body.webhook,
        top_secret=body.top_secret,
        owners=repo.owner_rows(owners.users, owners.guests, owners.groups),
    )
    repo.add(task)
    await db.flush()
    for i, field in enumerate(body.form_fields, start=1):
        repo.add(new_capture(actor.org_id, field, i, task_id=task.id))
    await db.flush()
    await tag_subject(db, actor, "Task", task.id, tags)
    await _record(
        db,
        actor,
        task,
        "created",
        f"Added {task.title} to {run.name}" if run else f"Created {task.title}",
    )
    await sync_run_status(db, task.run_id, actor)
    return task


async def clone_task(db: AsyncSession, actor: Actor, task_id: str) -> Task:
    """A fresh, not-started copy: same title, type, owners, deadline and form fields (not
    their values); a process task's copy joins its run as an ad-hoc task."""
    source = await get_task(db, actor, task_id)
    require_not_light(actor)
    run = await _host_run(db, actor, source.run_id)
    repo = TasksRepository(db)
    copy = Task(
        **{c.key: getattr(source, c.key) for c in Task.__table__.columns if c.key in CLONED}
    )
    copy.id, copy.org_id, copy.status, copy.starter_id = (
        new_id(),
        actor.org_id,
        "not-started",
        actor.user_id,
    )
    copy.increment_id = await OrgsRepository(db).next_number(actor.org_id, "task")
    copy.deadline_set_by_hand = True  # a one-off task: its deadline is the source's, kept
    copy.position = await _place(repo, run, None)
    lists = source.owner_lists()
    copy.owners = repo.owner_rows(lists["users"], lists["guests"], lists["groups"])
    repo.add(copy)
    await db.flush()
    for capture in (await repo.fields_of([source]))[source.id]:
        repo.add(copy_capture(capture, task_id=copy.id, step_id=None))
    await db.flush()
    await _record(
        db, actor, copy, "created", f"Cloned {source.title}", extra={"cloned_from": source.id}
    )
    await sync_run_status(db, copy.run_id, actor)
    return copy


CLONED = (
    "run_id",
    "checklist_id",
    "title",
    "summary",
    "task_type",
    "deadline",
    "started_at",
    "everyone_must_complete",
    "can_complete_only_assignees",
    "prevent_guest_comment",
    "max_assignable",
    "webhook",
    "top_secret",
)


async def get_task(db: AsyncSession, actor: Actor, task_id: str, run_id: str | None = None) -> Task:
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
    # Locked: concurrent archives (or restores, or deletes) of one task change it once.
    return await lock_task(db, task)


async def archive_one_off(db: AsyncSession, actor: Actor, task_id: str) -> Task:
    task = await _one_off(db, actor, task_id, admin_only=False)
    if task.deleted_at is None:
        task.deleted_at = now()
        await _record(db, actor, task, "archived", f"Archived {task.title}")
        await FilesRepository(db).set_archived(task_id=task.id, when=task.deleted_at)
        await CommentsRepository(db).set_archived(task.deleted_at, task_id=task.id)
        await db.flush()
    return task


async def restore_one_off(db: AsyncSession, actor: Actor, task_id: str) -> Task:
    task = await _one_off(db, actor, task_id, admin_only=False)
    if task.deleted_at is not None:
        await FilesRepository(db).restore_archived(task_id=task.id)
        await CommentsRepository(db).restore_archived(task_id=task.id)
        task.deleted_at = None
        await _record(db, actor, task, "unarchived", f"Restored {task.title}")
        await db.flush()
    return task


async def purge_one_off(db: AsyncSession, store: BlobStore, actor: Actor, task_id: str) -> None:
    task = await _one_off(db, actor, task_id, admin_only=True)
    keys = await FilesRepository(db).storage_keys(task_ids=[task.id])
    await _record(db, actor, task, "deleted", f"Deleted {task.title}")
    await TasksRepository(db).purge(task.id)
    await commit_then_discard(db, store, keys)


async def update_task(
    db: AsyncSession,
    actor: Actor,
    task_id: str,
    body: TaskUpdate,
    api_base: str,
    run_id: str | None = None,
) -> Task:
    # Locked run first, as completion does: an update that re-runs the rules and a completion
    # of the same run then wait for each other instead of deadlocking.
    task = await lock_task(db, await get_task(db, actor, task_id, run_id))
    await require_assigned_if_light(db, actor, task, "update")
    if task.status == "completed":
        raise invalid_field("status", "Completed tasks can't be updated. Reopen the task first.")
    if task.deleted_at is not None:
        raise invalid_field("archived_at", "Archived tasks can't be updated. Restore it first.")
    if task.run_id is None:
        _require_one_off_fields(body)
    before = _recorded(task)
    await _apply_changes(db, actor, task, body)
    _light_fills_in_only(actor, before, task)
    if task.deadline != before["deadline"]:
        await deadlines.follow(db, task)
    if body.taskdata:
        repo = TasksRepository(db)
        fields = (await repo.fields_of([task]))[task.id]
        ctx = ValueContext(db=db, org_id=actor.org_id, api_base=api_base)
        await repo.save_values(task, await clean_values(ctx, fields, body.taskdata, "taskdata"))
    await db.flush()
    await _record_changes(db, actor, task, before, body.taskdata)
    # Form values and assignees are what rules read of a task ("not assigned").
    reassigned = task.owner_lists() != before["owners"]
    run = await _run_of(db, task) if body.taskdata or reassigned else None
    if run is not None:
        await variables.refresh(db, run)
        await apply_rules(db, run, actor)
    return task


async def fill_in(
    db: AsyncSession, actor: Actor, task_id: str, taskdata: dict[str, Any], api_base: str
) -> Task:
    """Form values alone (PUT /form-field/value): the taskdata half of `update_task`, which a
    one-off task's update can't do without its title, deadline and owners."""
    task = await lock_task(db, await get_task(db, actor, task_id))
    await require_assigned_if_light(db, actor, task, "update")
    if task.status == "completed":
        raise invalid_field("status", "Completed tasks can't be updated. Reopen the task first.")
    if task.deleted_at is not None:
        raise invalid_field("archived_at", "Archived tasks can't be updated. Restore it first.")
    repo = TasksRepository(db)
    fields = (await repo.fields_of([task]))[task.id]
    ctx = ValueContext(db=db, org_id=actor.org_id, api_base=api_base)
    await repo.save_values(task, await clean_values(ctx, fields, taskdata, "form_value"))
    task.updated_at = now()
    await db.flush()
    await _record_changes(db, actor, task, _recorded(task), taskdata)
    run = await _run_of(db, task)
    if run is not None:
        await apply_rules(db, run, actor)
    return task


def _light_fills_in_only(actor: Actor, before: dict[str, Any], task: Task) -> None:
    """Light members fill in their tasks' form fields; they can't reassign or reschedule (a
    one-off PUT must still send title, deadline and owners: sent unchanged, they pass). The
    refusal rolls back the changes just applied."""
    if actor.is_light and _recorded(task) != before:
        raise forbidden("Light members can only fill in the form fields of their tasks.")


async def _run_of(db: AsyncSession, task: Task) -> Run | None:
    return await RunsRepository(db).get_by_id(task.run_id) if task.run_id else None


def _require_one_off_fields(body: TaskUpdate) -> None:
    missing = {
        name: [f"The {name} field is required."]
        for name in ("title", "deadline", "owners")
        if getattr(body, name) is None
    }
    if missing:
        raise invalid(missing)


async def _apply_changes(db: AsyncSession, actor: Actor, task: Task, body: TaskUpdate) -> None:
    if body.max_assignable is not None:
        task.max_assignable = body.max_assignable
    if body.owners is not None:
        await check_owners(db, actor.org_id, body.owners, task.max_assignable)
        task.owners = TasksRepository.owner_rows(
            body.owners.users, body.owners.guests, body.owners.groups
        )
    if body.position is not None and task.run_id is not None and body.position != task.position:
        task.position = await _place(TasksRepository(db), await _run_of(db, task), body.position)
    if body.deadline is not None and parse_datetime(body.deadline) != task.deadline:
        # A person's deadline stands as given (not moved into working time).
        task.deadline, task.deadline_set_by_hand = parse_datetime(body.deadline), True
    if body.started_at is not None:
        task.started_at = parse_datetime(body.started_at)
    for name in (
        "title",
        "summary",
        "webhook",
        "prevent_guest_comment",
        "everyone_must_complete",
        "can_complete_only_assignees",
        "top_secret",
        "task_type",
    ):
        value = getattr(body, name)
        if value is not None:
            if name in variables.RAW and value != getattr(task, name):
                variables.mark_by_hand(task, name)
            setattr(task, name, value)
    task.updated_at = now()


async def read_tasks(
    db: AsyncSession,
    tasks: Sequence[ReadableTask],
    includes: Includes,
    for_guest: bool = False,
    basics: TaskBasics | None = None,
) -> list[TaskRead]:
    """`for_guest`: the tasks as their guest assignee sees them (no `hide-for-guests` threads);
    `basics`: their values and issue marks when already read with them. A task with an open
    issue, or of a process with an open issue of its own, can't be completed."""
    org_id = tasks[0].org_id if tasks else ""
    basics = basics or await basics_of(db, org_id, tasks)
    reads = [TaskRead.of(t, basics.values.get(t.id)) for t in tasks]
    for read in reads:
        read.problem = read.id in basics.with_issue
        if read.id in basics.with_issue or read.id in basics.frozen:
            read.is_completable = False
    await TASK_INCLUDES.fill(Page(db, org_id, list(tasks), reads, includes, for_guest=for_guest))
    return reads


async def list_tasks(
    db: AsyncSession, actor: Actor, page: PageParams, filters: TaskFilters
) -> tuple[TaskPage, int]:
    return await TasksRepository(db).listing(actor.org_id, page, filters)


def member_id(text: str) -> int:
    """A user id from the path; what can't be one is an unknown member (404)."""
    number = parse_user_id(text)
    if number is None:
        raise not_found()
    return number


async def _require_member(db: AsyncSession, actor: Actor, user_id: int) -> None:
    """404 unless `user_id` is a member; the actor is one (their own list needs no lookup)."""
    if user_id != actor.user_id and not await MembersRepository(db).existing_user_ids(
        actor.org_id, [user_id]
    ):
        raise not_found()


async def member_groups(db: AsyncSession, org_id: str, user_id: int) -> tuple[str, ...]:
    """The groups `user_id` is in (their tasks include the groups'), through the auth cache."""
    generation = authcache.cache.generation
    found = authcache.member_groups(db, org_id, user_id)
    if found is None:
        found = tuple(await GroupsRepository(db).ids_of_member(org_id, user_id))
        authcache.remember_member_groups(db, generation, org_id, user_id, found)
    return found


async def list_member_tasks(
    db: AsyncSession,
    actor: Actor,
    page: PageParams,
    filters: TaskFilters,
    user_id: int,
    default_status: str | None = None,
) -> tuple[TaskPage, int]:
    """A member's tasks (`/me/tasks`, `/users/{id}/tasks`); an unknown member is 404."""
    await _require_member(db, actor, user_id)
    status = filters.status or default_status
    groups = await member_groups(db, actor.org_id, user_id)
    return await TasksRepository(db).listing(
        actor.org_id,
        page,
        replace(filters, owners=(user_id,), owner_groups=groups, status=status),
    )


@dataclass(frozen=True)
class MemberTasks:
    """A member's tasks (directly or through groups) counted per status filter; `filters`
    selects them, for reading a page of one status after."""

    counts: dict[str, int]
    filters: TaskFilters


async def count_member_tasks(
    db: AsyncSession,
    actor: Actor,
    filters: TaskFilters,
    user_id: int,
    statuses: tuple[str, ...],
) -> MemberTasks:
    """How many of a member's tasks match each status filter, in one statement; an unknown
    member is 404."""
    await _require_member(db, actor, user_id)
    groups = await member_groups(db, actor.org_id, user_id)
    mine = replace(filters, owners=(user_id,), owner_groups=groups)
    counts = await TasksRepository(db).count_by_status(actor.org_id, mine, statuses)
    return MemberTasks(counts, mine)


async def member_task_page(
    db: AsyncSession, actor: Actor, mine: MemberTasks, status: str, sort: str, page: PageParams
) -> list[ReadableTask]:
    """One page of the tasks `count_member_tasks` counted under `status`."""
    return await TasksRepository(db).page_of(
        actor.org_id, page, replace(mine.filters, status=status, sort=sort)
    )
