"""Process rules: launch from a template, archive with everything in it, activate, purge."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.files.blobs import commit_then_discard
from checkrun.files.repository import FilesRepository
from checkrun.files.schemas import AssetRead
from checkrun.kit.auth import Actor, require_admin, require_not_light
from checkrun.kit.clock import now, parse_datetime
from checkrun.kit.errors import invalid, invalid_field, not_found
from checkrun.kit.includes import Includes
from checkrun.kit.pagination import PageParams
from checkrun.orgs.repository import OrgsRepository
from checkrun.runs.models import Run
from checkrun.runs.repository import RunFilters, RunsRepository
from checkrun.runs.rules import apply_rules, offset
from checkrun.runs.schemas import RunLaunch, RunRead, RunUpdate, TaskOverride
from checkrun.storage import BlobStore
from checkrun.tasks.models import Task
from checkrun.tasks.repository import TaskFilters, TasksRepository
from checkrun.tasks.service import check_owners, read_tasks
from checkrun.templates.automations import text_of as automations_text
from checkrun.templates.models import Capture, Checklist, Step
from checkrun.templates.repository import TemplatesRepository
from checkrun.templates.service import read_many as read_templates
from checkrun.templates.values import ValueContext, clean_values, is_empty

DEFAULT_DEADLINE_DAYS = 5
# Step flags that a launched task carries.
COPIED_TO_TASKS = ("everyone_must_complete", "can_complete_only_assignees", "prevent_guest_comment",
              "max_assignable", "top_secret")


def step_deadline(step: Step, launched: datetime) -> datetime:
    rule = step.deadline or {}
    if not rule:
        return launched + timedelta(days=DEFAULT_DEADLINE_DAYS)
    sign = -1 if rule.get("option") == "prior_to" else 1
    return launched + sign * offset(rule)


def process_name(checklist: Checklist, fields: list[Capture], prerun: dict[str, Any],
                 started: datetime) -> str:
    """`default_process_name_format` with {{Template Name}}, {{Date}} and kick-off fields by
    label or alias; without auto-naming, "{title} - {date}"."""
    date = f"{started:%Y-%m-%d %H:%M}"
    pattern = checklist.default_process_name_format
    if not (checklist.auto_naming and pattern):
        return f"{checklist.title} - {date}"
    names = {"template name": checklist.title, "date": date}
    for field in fields:
        text = automations_text(prerun.get(field.id))
        names[field.label.strip().lower()] = names[field.alias.lower()] = text
    named = re.sub(r"\{\{\s*([^}]+?)\s*\}\}",
                   lambda m: names.get(m.group(1).lower(), m.group(0)), pattern)
    return named[:550]


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
        **{name: getattr(step, name) for name in COPIED_TO_TASKS},
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
        name=body.name or process_name(checklist, fields, prerun, started),
        summary=body.summary, status="active", type=checklist.type,
        owner_id=body.owner_id or actor.user_id, started_by=actor.user_id, prerun=prerun,
        starred=body.starred, is_public=body.is_public, can_add_oot=checklist.can_add_oot,
        created_at=started, started_at=started,
        # Launching submits the kick-off form; `complete-prerun` can reopen it.
        prerun_completed_at=started, prerun_completed_by=actor.user_id,
    )
    repo = RunsRepository(db)
    repo.add(run)
    await db.flush()
    first = await orgs.next_numbers(actor.org_id, "task", len(steps))
    for number, step in enumerate(steps, start=first):
        repo.add(_task_for_step(run, step, number, actor, body.tasks.get(step.id)))
    await db.flush()
    await apply_rules(db, run)
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


async def read_runs(
    db: AsyncSession, runs: list[Run], includes: Includes, api_base: str = ""
) -> list[RunRead]:
    ids = [r.id for r in runs]
    progress = await RunsRepository(db).progress_of(ids)
    reads = [RunRead.of(r, *progress.get(r.id, (0, 0))) for r in runs]
    await _include_checklists(db, runs, reads, includes)
    if includes.wants("next_task") or includes.wants("tasks") or includes.wants("form_fields"):
        await _include_tasks(db, ids, reads, includes)
    if includes.wants("assets"):
        files = await FilesRepository(db).of_runs(ids)
        for read in reads:
            read.assets = {"data": [AssetRead.of(a, api_base).model_dump()  # type: ignore[attr-defined]
                                    for a in files.get(read.id, [])]}
    if includes.wants("tags"):
        for read in reads:
            read.tags = {"data": []}  # type: ignore[attr-defined]
    return reads


async def _include_checklists(
    db: AsyncSession, runs: list[Run], reads: list[RunRead], includes: Includes
) -> None:
    if not includes.wants("checklist"):
        return
    found = await TemplatesRepository(db).by_ids([r.checklist_id for r in runs])
    by_id = {c.id: c for c in await read_templates(db, found, Includes())}
    for read in reads:
        template = by_id.get(read.checklist_id)
        read.checklist = {"data": template.model_dump() if template else None}  # type: ignore[attr-defined]


async def _include_tasks(
    db: AsyncSession, ids: list[str], reads: list[RunRead], includes: Includes
) -> None:
    tasks = await TasksRepository(db).tasks_of_runs(ids)
    task_includes = Includes(i.removeprefix("tasks.") for i in includes if "." in i)
    if includes.wants("form_fields"):
        task_includes = Includes(task_includes | {"form_fields"})
    for read in reads:
        mine = tasks.get(read.id, [])
        task_reads = await read_tasks(db, mine, task_includes)
        if includes.wants("form_fields"):
            read.form_fields = {"data": [  # type: ignore[attr-defined]
                {**field, "task_id": t.id} for t in task_reads
                for field in t.form_fields["data"]]}  # type: ignore[attr-defined]
        if includes.wants("tasks"):
            read.tasks = {"data": [t.model_dump() for t in task_reads]}  # type: ignore[attr-defined]
        if includes.wants("next_task"):
            upcoming = [t for t in task_reads
                        if t.status in ("not-started", "active", "in-progress")]
            read.next_task = {"data": upcoming[0].model_dump() if upcoming else None}  # type: ignore[attr-defined]


def run_filters(
    status: str | None = None, q: str | None = None, archived: str | None = None,
    checklist_id: str | None = None, blueprint_id: str | None = None, owners: str | None = None,
    starred: str | None = None, type: str | None = None, sort: str | None = None,
    sort_by: str | None = None, tag: str | None = None, folder: str | None = None,
) -> RunFilters:
    """The documented list query parameters (a FastAPI dependency: names are the API's)."""
    flag = {"true": True, "1": True, "false": False, "0": False}.get((starred or "").lower())
    return RunFilters(
        status=status, q=q, archived=archived, checklist_id=checklist_id or blueprint_id,
        owners=tuple(int(o) for o in (owners or "").split(",") if o.strip().isdigit()),
        starred=flag, type=type, sort=sort or sort_by, tag_or_folder=bool(tag or folder),
    )


async def list_runs(
    db: AsyncSession, actor: Actor, page: PageParams, filters: RunFilters
) -> tuple[list[Run], int]:
    return await RunsRepository(db).search(actor.org_id, page, filters)


async def update_run(
    db: AsyncSession, actor: Actor, run_id: str, body: RunUpdate, api_base: str
) -> Run:
    run = await get_run(db, actor, run_id)
    for name in ("name", "summary", "owner_id", "starred", "is_public", "users", "groups"):
        value = getattr(body, name)
        if value is not None:
            setattr(run, name, value)
    if body.prerun is not None:
        fields = (await TemplatesRepository(db).prerun_of([run.checklist_id])).get(
            run.checklist_id, [])
        ctx = ValueContext(db=db, org_id=actor.org_id, api_base=api_base)
        changed = await clean_values(ctx, fields, body.prerun, "prerun")
        merged = {**run.prerun, **changed}
        run.prerun = {k: v for k, v in merged.items() if v is not None}
    run.updated_at = now()
    await db.flush()
    if body.prerun is not None:
        await apply_rules(db, run)
    return run


async def set_prerun_complete(db: AsyncSession, actor: Actor, run_id: str, done: bool) -> Run:
    run = await get_run(db, actor, run_id)
    run.prerun_completed_at = now() if done else None
    run.prerun_completed_by = actor.user_id if done else None
    await db.flush()
    return run


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
