"""Process rules: launch from a template, archive with everything in it, activate, purge."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.files.blobs import commit_then_discard
from checkrun.files.repository import FilesRepository
from checkrun.kit.auth import Actor, require_admin, require_not_light
from checkrun.kit.clock import now, parse_datetime
from checkrun.kit.errors import invalid, invalid_field, not_found
from checkrun.kit.includes import Includes
from checkrun.kit.pagination import PageParams
from checkrun.orgs.repository import OrgsRepository
from checkrun.runs.models import Run
from checkrun.runs.repository import RunsRepository
from checkrun.runs.schemas import RunLaunch, RunRead, TaskOverride
from checkrun.storage import BlobStore
from checkrun.tasks.models import Task
from checkrun.tasks.repository import TaskFilters, TasksRepository
from checkrun.tasks.service import check_owners, read_tasks
from checkrun.templates.models import Capture, Checklist, Step
from checkrun.templates.repository import TemplatesRepository
from checkrun.templates.values import ValueContext, clean_values, is_empty

DEFAULT_DEADLINE_DAYS = 5
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "week": 604800, "month": 2592000}


def step_deadline(step: Step, launched: datetime) -> datetime:
    rule = step.deadline or {}
    if not rule:
        return launched + timedelta(days=DEFAULT_DEADLINE_DAYS)
    seconds = _UNIT_SECONDS[str(rule.get("unit", "days")).rstrip("s")] * int(rule.get("value", 0))
    sign = -1 if rule.get("option") == "prior_to" else 1
    return launched + timedelta(seconds=sign * seconds)


async def _prerun_values(
    ctx: ValueContext, body: RunLaunch, fields: list[Capture]
) -> dict[str, Any]:
    """Keys are kick-off field ids; unknown keys are dropped, as Tallyfy does."""
    given = body.prerun if isinstance(body.prerun, dict) else {}
    missing = {
        f"prerun.{f.id}": [f"{f.label} is required"]
        for f in fields
        if f.required and is_empty(given.get(f.id))
    }
    if missing:
        raise invalid(missing)
    values = await clean_values(ctx, fields, given, "prerun")
    return {k: v for k, v in values.items() if v is not None}


def _task_for_step(
    run: Run, step: Step, number: int, actor: Actor, override: TaskOverride | None
) -> Task:
    owners = override.owners if override and override.owners else None
    if owners is not None:
        users, guests, groups = owners.users, owners.guests, owners.groups
    else:
        users, guests, groups = list(step.assignees), list(step.guests), list(step.groups)
        if not (users or guests or groups) and step.assign_run_starter:
            users = [actor.user_id]
    deadline = (
        parse_datetime(override.deadline) if override and override.deadline
        else step_deadline(step, run.started_at)
    )
    return Task(
        org_id=run.org_id, increment_id=number, run_id=run.id, step_id=step.id,
        checklist_id=run.checklist_id, title=step.title, alias=step.alias, summary=step.summary,
        task_type=step.step_type, status="active", position=step.position, deadline=deadline,
        started_at=run.started_at, starter_id=actor.user_id, webhook=step.webhook,
        owners=TasksRepository.owner_rows(users, guests, groups),
    )


async def _launchable(db: AsyncSession, actor: Actor, checklist_id: str) -> Checklist:
    checklist = await TemplatesRepository(db).get(actor.org_id, checklist_id)
    if checklist is None:
        raise invalid_field("checklist_id", "The selected checklist id is invalid.")
    return checklist


async def launch(db: AsyncSession, actor: Actor, body: RunLaunch, api_base: str) -> Run:
    checklist = await _launchable(db, actor, body.checklist_id)
    templates = TemplatesRepository(db)
    steps = (await templates.steps_of([checklist.id])).get(checklist.id, [])
    fields = (await templates.prerun_of([checklist.id])).get(checklist.id, [])
    ctx = ValueContext(db=db, org_id=actor.org_id, api_base=api_base)
    prerun = await _prerun_values(ctx, body, fields)
    for override in body.tasks.values():
        if override.owners:
            await check_owners(db, actor.org_id, override.owners)
    orgs = OrgsRepository(db)
    started = now()
    run = Run(
        org_id=actor.org_id, increment_id=await orgs.next_number(actor.org_id, "run"),
        checklist_id=checklist.id, checklist_title=checklist.title,
        name=body.name or f"{checklist.title} - {started:%Y-%m-%d %H:%M}",
        summary=body.summary, status="active", type=checklist.type,
        owner_id=body.owner_id or actor.user_id, started_by=actor.user_id, prerun=prerun,
        starred=body.starred, is_public=body.is_public, can_add_oot=checklist.can_add_oot,
        created_at=started, started_at=started,
    )
    repo = RunsRepository(db)
    repo.add(run)
    await db.flush()
    for step in steps:
        number = await orgs.next_number(actor.org_id, "task")
        repo.add(_task_for_step(run, step, number, actor, body.tasks.get(step.id)))
    await db.flush()
    return run


async def get_run(db: AsyncSession, actor: Actor, run_id: str) -> Run:
    run = await RunsRepository(db).get(actor.org_id, run_id)
    if run is None:
        raise not_found()
    return run


async def list_tasks_of_run(
    db: AsyncSession, actor: Actor, run_id: str, page: PageParams, filters: TaskFilters
) -> tuple[list[Task], int]:
    run = await get_run(db, actor, run_id)
    # An archived run still shows its (archived) tasks.
    archived = "true" if run.deleted_at else filters.archived
    return await TasksRepository(db).search(
        actor.org_id, page, replace(filters, run_id=run.id, archived=archived)
    )


async def read_runs(db: AsyncSession, runs: list[Run], includes: Includes) -> list[RunRead]:
    ids = [r.id for r in runs]
    progress = await RunsRepository(db).progress_of(ids)
    reads = [RunRead.of(r, *progress.get(r.id, (0, 0))) for r in runs]
    if includes.wants("tasks"):
        tasks = await TasksRepository(db).tasks_of_runs(ids)
        task_includes = Includes(i.removeprefix("tasks.") for i in includes if "." in i)
        for read in reads:
            task_reads = await read_tasks(db, tasks.get(read.id, []), task_includes)
            read.tasks = {"data": [t.model_dump() for t in task_reads]}  # type: ignore[attr-defined]
    return reads


async def list_runs(
    db: AsyncSession, actor: Actor, page: PageParams, **filters: str | None
) -> tuple[list[Run], int]:
    return await RunsRepository(db).search(actor.org_id, page, **filters)  # type: ignore[arg-type]


async def archive(db: AsyncSession, actor: Actor, run_id: str) -> Run:
    run = await get_run(db, actor, run_id)
    require_not_light(actor)
    if run.deleted_at is None:
        when = now()
        run.status_before_archive, run.status, run.deleted_at = run.status, "archived", when
        await TasksRepository(db).set_archived_with_run(run.id, when)
        await FilesRepository(db).set_archived(when, run_id=run.id)
        await db.flush()
    return run


async def activate(db: AsyncSession, actor: Actor, run_id: str) -> Run:
    run = await get_run(db, actor, run_id)
    require_not_light(actor)
    if run.deleted_at is not None:
        run.status = run.status_before_archive or "active"
        run.status_before_archive, run.deleted_at = None, None
        await TasksRepository(db).restore_with_run(run.id)
        await FilesRepository(db).restore_archived(run_id=run.id)
        await db.flush()
    return run


async def purge(db: AsyncSession, store: BlobStore, actor: Actor, run_id: str) -> None:
    run = await get_run(db, actor, run_id)
    require_admin(actor)
    keys = await FilesRepository(db).storage_keys(run_id=run.id)
    await RunsRepository(db).purge(run.id)
    await commit_then_discard(db, store, keys)
