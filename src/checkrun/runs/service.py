"""Process rules: launch from a template, archive with everything in it, activate, purge."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import instance_dict

from checkrun.comments.repository import CommentsRepository
from checkrun.files.blobs import commit_then_discard
from checkrun.files.repository import FilesRepository
from checkrun.folders.service import check_run_folders, file_subject
from checkrun.groups.service import check_group_ids
from checkrun.guests.service import ensure_guests, ensure_run_guests
from checkrun.kit.auth import Actor, require_admin, require_not_light
from checkrun.kit.clock import now, parse_datetime
from checkrun.kit.errors import invalid, invalid_field, not_found
from checkrun.kit.ids import new_id
from checkrun.kit.includes import Includes, Page
from checkrun.kit.pagination import PageParams
from checkrun.kit.worktime import WorkWeek
from checkrun.members.repository import MembersRepository
from checkrun.orgs.models import Organization
from checkrun.orgs.repository import OrgsRepository
from checkrun.runs import variables
from checkrun.runs.history import record
from checkrun.runs.includes import RUN_INCLUDES, tasks_if_included
from checkrun.runs.models import Run
from checkrun.runs.repository import RunFilters, RunPage, RunsRepository, RunStats
from checkrun.runs.rules import apply_rules, sync_run_status
from checkrun.runs.schemas import RunLaunch, RunRead, RunUpdate, TaskOverride
from checkrun.runs.shell import subprocess_settings
from checkrun.scheduler.reminders import Rules, next_moment
from checkrun.storage import BlobStore
from checkrun.tags.service import check_tag_ids, known_tag_ids, tag_subject
from checkrun.tasks import deadlines
from checkrun.tasks.deadlines import Rule
from checkrun.tasks.models import ReadableTask
from checkrun.tasks.repository import TaskFilters, TasksRepository
from checkrun.tasks.schemas import Owners
from checkrun.templates import versions
from checkrun.templates.automations import text_of as automations_text
from checkrun.templates.models import Capture, Checklist, Step
from checkrun.templates.repository import TemplatesRepository
from checkrun.templates.values import ValueContext, clean_values, is_empty

# Step flags that a launched task carries.
COPIED_TO_TASKS = (
    "everyone_must_complete",
    "can_complete_only_assignees",
    "prevent_guest_comment",
    "max_assignable",
    "top_secret",
)


def step_rules(steps: list[Step], default: Rule) -> dict[str, Rule]:
    """Each step's deadline rule, `{value, unit, option: from|prior_to, step}`; a step without
    a deadline gets the organization's default."""
    return {s.id: Rule.read(s.deadline) or default for s in steps}


def step_deadlines(
    rules: dict[str, Rule],
    launched: datetime,
    week: WorkWeek,
    by_hand: dict[str, datetime] | None = None,
) -> dict[str, datetime]:
    """Each step's task deadline in the organization's working time by its rule: counted from
    launch, or from the deadline of the rule's `step` (a deadline given by hand at launch
    included)."""
    return deadlines.plan(rules, launched, week, by_hand).deadlines


# Kick-off fields whose answers can name a process (rule 10 of the reference).
NAMING_FIELD_TYPES_EXCLUDED = ("textarea", "file", "table")


def process_name(
    checklist: Checklist, fields: list[Capture], prerun: dict[str, Any], started: datetime
) -> str:
    """`default_process_name_format` with {{Template Name}}, {{Date}} and required kick-off
    fields by label or alias; without auto-naming (or if that leaves nothing),
    "{title} - {date}". Unknown variables stay as written."""
    date = f"{started:%Y-%m-%d %H:%M}"
    default = f"{checklist.title} - {date}"
    pattern = checklist.default_process_name_format
    if not (checklist.auto_naming and pattern):
        return default
    names = {"template name": checklist.title, "date": date}
    for field in fields:
        if field.required and field.field_type not in NAMING_FIELD_TYPES_EXCLUDED:
            text = automations_text(prerun.get(field.id))
            names[field.label.strip().lower()] = names[field.alias.lower()] = text
    named = re.sub(
        r"\{\{\s*([^}]+?)\s*\}\}", lambda m: names.get(m.group(1).lower(), m.group(0)), pattern
    )
    return " ".join(named.split())[:550] or default


async def _prerun_values(
    ctx: ValueContext, given: dict[str, Any], fields: list[Capture]
) -> dict[str, Any]:
    """Keys are kick-off field ids; unknown keys are dropped, as Tallyfy does."""
    missing = {
        f"prerun.{f.id}": [f"{f.label} is required"]
        for f in fields
        if f.required and is_empty(given.get(f.id))
    }
    if missing:
        raise invalid(missing)
    values = await clean_values(ctx, fields, given, "prerun")
    return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class Launch:
    """What every task of a launch counts with."""

    week: WorkWeek
    rules: dict[str, Rule]  # by step id (`step_rules`)
    deadlines: dict[str, datetime]
    reminders: Rules
    version: int | None  # the frozen template version the tasks read their fields from


def _task_for_step(
    run: Run, step: Step, number: int, launch: Launch, override: TaskOverride | None
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The step's task row and its assignee rows (each kind inserted in one statement)."""
    # The step's values as loaded (or as a frozen version gave them: a column it predates is
    # None, as the attribute would be): a launch reads thirty of each step, and each read of
    # an attribute runs the ORM's descriptor.
    values: Callable[[str], Any] = instance_dict(step).get
    owners = override.owners if override and override.owners else None
    if owners is not None:
        users, guests, groups = owners.users, owners.guests, owners.groups
    else:
        users, guests, groups = [*values("assignees")], [*values("guests")], [*values("groups")]
        if not (users or guests or groups) and values("assign_run_starter"):
            users = [run.started_by]
    start = Rule.read(values("start_date"))
    started = deadlines.counted(start, run.started_at, launch.week) if start else run.started_at
    step_id, title, summary = values("id"), values("title"), values("summary")
    rule = launch.rules[step_id]
    flags = {name: values(name) for name in COPIED_TO_TASKS}
    if override and override.max_assignable is not None:
        flags["max_assignable"] = override.max_assignable
    deadline = launch.deadlines[step_id]
    task: dict[str, Any] = {
        "id": new_id(),
        "org_id": run.org_id,
        "increment_id": number,
        "run_id": run.id,
        "step_id": step_id,
        "checklist_id": run.checklist_id,
        "version": launch.version,
        "title": title,
        "alias": values("alias"),
        "summary": summary,
        "task_type": values("step_type"),
        "status": "active",
        "position": values("position"),
        "deadline": deadline,
        "deadline_set_by_hand": bool(override and override.deadline),
        "started_at": started,
        "starter_id": run.started_by,
        "webhook": values("webhook"),
        "settings": {
            deadlines.SNAPSHOT: rule.as_dict(),
            **variables.raw_settings(title, summary),
            **subprocess_settings(step),
        },
        # What the reminders' flush hook gives a new open task (these rows skip the ORM).
        "remind_at": next_moment(
            deadline, None, None, launch.reminders.for_type(values("step_type"))
        ),
        **flags,
    }
    rows = TasksRepository.owner_values(users, guests, groups)
    return task, [{**row, "task_id": task["id"]} for row in rows]


async def _launchable(
    db: AsyncSession, actor: Actor, checklist_id: str
) -> tuple[Checklist, Organization]:
    """Locked to the end against edits (`templates.service.editable`), not against other
    launches (PostgreSQL's `FOR SHARE`): an edit that freezes the version launched waits for
    the launch to commit (so it sees the run), and a launch waits for an edit in progress (so
    it copies what that edit leaves). The organization comes with it (whether it has webhook
    watchers too)."""
    found = await TemplatesRepository(db).lock_for_launch(actor.org_id, checklist_id)
    if found is None:
        raise invalid_field("checklist_id", "The selected checklist id is invalid.")
    return found


async def check_members(
    db: AsyncSession, org_id: str, also: Sequence[int] = (), **given: int | list[int] | None
) -> set[int]:
    """Every user id given (a field's value or list) must be a member: 422 keyed by field.
    Answers the members among those and `also` (ids the caller checks next), read at once."""
    ids = {name: [v] if isinstance(v, int) else list(v or []) for name, v in given.items()}
    known = await MembersRepository(db).existing_user_ids(
        org_id, [i for values in ids.values() for i in values] + list(also)
    )
    errors = {}
    for name, values in ids.items():
        for i, user_id in enumerate(values):
            if user_id not in known:
                key = name if isinstance(given[name], int) else f"{name}.{i}"
                errors[key] = [f"The selected {name.replace('_', ' ')} is invalid."]
    if errors:
        raise invalid(errors)
    return known


async def _check_overrides(
    db: AsyncSession, org_id: str, given: list[Owners], known: set[int]
) -> None:
    """`check_owners` for each step's assignees given at launch (`known`: their members)."""
    for owners in given:
        for i, user_id in enumerate(owners.users):
            if user_id not in known:
                raise invalid_field(f"owners.users.{i}", "The selected owners.users is invalid.")
        await check_group_ids(db, org_id, owners.groups, "owners.groups")
        await ensure_guests(db, org_id, owners.guests)


async def _check_launch(db: AsyncSession, actor: Actor, body: RunLaunch) -> None:
    overrides = [o.owners for o in body.tasks.values() if o.owners]
    known = await check_members(
        db,
        actor.org_id,
        also=[u for owners in overrides for u in owners.users],
        owner_id=body.owner_id,
        user_id=body.user_id,
        users=body.users,
    )
    await _check_overrides(db, actor.org_id, overrides, known)
    if body.parent_id and await RunsRepository(db).get(actor.org_id, body.parent_id) is None:
        raise invalid_field("parent_id", "The selected parent id is invalid.")
    await check_tag_ids(db, actor.org_id, body.tags)
    await check_run_folders(db, actor.org_id, body.folders)
    await check_group_ids(db, actor.org_id, body.groups)


async def launch(db: AsyncSession, actor: Actor, body: RunLaunch, api_base: str) -> Run:
    return (await launch_counted(db, actor, body, api_base))[0]


def _launched_stats(rows: list[dict[str, Any]]) -> RunStats:
    """What `RunsRepository.stats_of` counts of a run just launched with these task rows, as
    inserted (no rule changed them): all open, none auto-skipped."""
    moment = now()
    deadlines = [d for row in rows if (d := row["deadline"]) is not None]
    return RunStats(
        complete=0,
        total=len(rows),
        late=sum(d < moment for d in deadlines),
        last_deadline=max(deadlines, default=None),
    )


async def launch_counted(
    db: AsyncSession, actor: Actor, body: RunLaunch, api_base: str
) -> tuple[Run, RunStats | None]:
    """The launch, and its run's task counts when they are known without a read (no rules
    ran on its tasks).

    Every read comes first and every write after, the numbering first among them: the
    organization's row lock that numbering takes lasts to commit, so it covers only a few
    batched inserts and no other read (the numbering answers the organization's row). The
    template's row lock comes before the reads (so that the template can't change under
    them); on SQLite it is the first write."""
    # Tallyfy lets a light member launch only a template that grants them LAUNCH; checkrun
    # has no per-template permissions yet, so light members don't launch.
    require_not_light(actor)
    # The organization is held to the end: its webhook watchers are known when the launch
    # is announced, and its calendar and reminder settings when the numbering answers it.
    checklist, org = await _launchable(db, actor, body.checklist_id)
    await _check_launch(db, actor, body)
    # The version launched: with dual versions the published one (templates/versions.py).
    parts = await versions.launch_parts(db, checklist)
    steps, fields = parts.steps, parts.fields
    ctx = ValueContext(db=db, org_id=actor.org_id, api_base=api_base)
    prerun = await _prerun_values(ctx, body.prerun if isinstance(body.prerun, dict) else {}, fields)
    step_tags = await _step_tags(db, actor.org_id, steps)
    started = now()
    by_hand = {
        s.id: parse_datetime(o.deadline)
        for s in steps
        if (o := body.tasks.get(s.id)) and o.deadline
    }
    # The first write, which reads the organization again (the same object, refreshed): the
    # flush reads its reminder settings from it.
    org, number, first = await OrgsRepository(db).reserve_launch(actor.org_id, len(steps))
    week = deadlines.work_week(org)
    rules = step_rules(steps, deadlines.default_rule(org))
    plan = Launch(
        week,
        rules,
        step_deadlines(rules, started, week, by_hand),
        Rules.of(org.preferences),
        parts.frozen,
    )
    name = body.name or process_name(checklist, fields, prerun, started)
    run = _new_run(actor, checklist, body, number, name, prerun, started)
    run.version = checklist.version
    made = [
        _task_for_step(run, step, n, plan, body.tasks.get(step.id))
        for n, step in enumerate(steps, start=first)
    ]
    with_variables = any(variables.RAW.values() & task["settings"].keys() for task, _ in made)
    if with_variables:
        run.settings = {**run.settings, variables.HAS_VARIABLES: True}
    await RunsRepository(db).insert_attached(run)
    tasks = TasksRepository(db)
    # Rows, not ORM objects: twenty objects' construction and flush cost more than the rest
    # of the launch. What reads the tasks next reads them from the database.
    await tasks.insert_tasks([task for task, _ in made])
    await tasks.insert_owners([row for _, rows in made for row in rows])
    if with_variables:
        await variables.refresh(db, run, kickoff=fields)
    await tag_subject(db, actor, "Run", run.id, body.tags)
    await file_subject(db, actor, "Run", run.id, body.folders)
    for task, _ in made:
        await tag_subject(db, actor, "Task", task["id"], step_tags.get(task["step_id"], []))
    stats: RunStats | None = None
    if parts.rules:
        await apply_rules(db, run, actor, launch=True)
        await ensure_run_guests(db, run.org_id, run.id, actor)
    else:
        guests = [r["ref"] for _, rows in made for r in rows if r["kind"] == "guest"]
        await ensure_guests(db, run.org_id, guests, actor=actor, refuse_members=False)
        stats = _launched_stats([task for task, _ in made])
    await record(db, actor, run, "created", f"Launched {run.name}")
    del org
    return run, stats


def _new_run(
    actor: Actor,
    checklist: Checklist,
    body: RunLaunch,
    number: int,
    name: str,
    prerun: dict[str, Any],
    started: datetime,
) -> Run:
    return Run(
        id=new_id(),
        org_id=actor.org_id,
        increment_id=number,
        checklist_id=checklist.id,
        checklist_title=checklist.title,
        name=name,
        summary=body.summary,
        status="active",
        type=checklist.type,
        owner_id=body.owner_id or actor.user_id,
        started_by=body.user_id or actor.user_id,
        prerun=prerun,
        starred=body.starred,
        is_public=body.is_public,
        can_add_oot=checklist.can_add_oot,
        users=list(dict.fromkeys(body.users)),
        groups=list(dict.fromkeys(body.groups)),
        parent_id=body.parent_id,
        created_at=started,
        started_at=started,
        # Launching submits the kick-off form; `complete-prerun` can reopen it.
        prerun_completed_at=started,
        prerun_completed_by=actor.user_id,
        settings={},
    )


async def _step_tags(db: AsyncSession, org_id: str, steps: list[Step]) -> dict[str, list[str]]:
    """Each step's tags that are (still) tags of the organization: its task gets them."""
    step_tags = {s.id: (s.settings or {}).get("tags") or [] for s in steps}
    if not any(step_tags.values()):
        return {}
    known = set(await known_tag_ids(db, org_id, [t for ts in step_tags.values() for t in ts]))
    return {step: [t for t in tags if t in known] for step, tags in step_tags.items()}


RECORDED = ("name", "summary", "owner_id", "starred", "is_public", "users", "groups", "prerun")


async def _record_changes(db: AsyncSession, actor: Actor, run: Run, before: dict[str, Any]) -> None:
    """One entry per changed field, with its old and new value."""
    changed: list[str | None] = [n for n in RECORDED if getattr(run, n) != before[n]]
    for name in changed or [None]:
        await record(
            db,
            actor,
            run,
            "updated",
            f"Updated {run.name}",
            field=name,
            old_value=before.get(name or ""),
            new_value=getattr(run, name) if name else None,
        )


async def launch_form(
    db: AsyncSession, actor: Actor, checklist_id: str
) -> tuple[Checklist, list[Capture]]:
    """A live template the caller may launch and its kick-off fields (a launch form): those of
    the version a launch uses."""
    require_not_light(actor)
    checklist = await TemplatesRepository(db).get(actor.org_id, checklist_id)
    if checklist is None:
        raise not_found()
    return checklist, (await versions.launch_parts(db, checklist)).fields


async def kickoff_fields(db: AsyncSession, run: Run) -> list[Capture]:
    """The kick-off fields of the run's template version (archived or not): labels for its
    values."""
    return await versions.kickoff_fields_of_run(db, run)


async def get_run(db: AsyncSession, actor: Actor, run_id: str) -> Run:
    run = await RunsRepository(db).get(actor.org_id, run_id)
    if run is None:
        raise not_found()
    return run


async def list_tasks_of_run(
    db: AsyncSession, actor: Actor, run_id: str, page: PageParams, filters: TaskFilters
) -> tuple[list[ReadableTask], int]:
    run = await get_run(db, actor, run_id)
    # An archived run still shows its (archived) tasks.
    archived = "true" if run.deleted_at else filters.archived
    return await TasksRepository(db).search(
        actor.org_id, page, replace(filters, run_id=run.id, archived=archived)
    )


async def read_runs(
    db: AsyncSession,
    runs: list[Run],
    includes: Includes,
    api_base: str = "",
    stats: dict[str, RunStats] | None = None,
) -> list[RunRead]:
    """`stats`: the runs' stats when already read with them (or counted, by a launch)."""
    org_id = runs[0].org_id if runs else ""
    loaded = await tasks_if_included(db, org_id, runs, includes)
    if loaded:
        stats = loaded.stats()
    elif stats is None:
        stats = await RunsRepository(db).stats_of([r.id for r in runs])
    reads = [RunRead.of(r, stats.get(r.id, RunStats())) for r in runs]
    page = Page(db, org_id, runs, reads, includes, api_base, loaded={"tasks": loaded})
    await RUN_INCLUDES.fill(page)
    return reads


async def list_runs(
    db: AsyncSession, actor: Actor, page: PageParams, filters: RunFilters
) -> tuple[RunPage, int]:
    return await RunsRepository(db).search(actor.org_id, page, filters)


async def _locked_run(db: AsyncSession, actor: Actor, run_id: str) -> Run:
    """The run as committed now, locked until the request's transaction ends: concurrent
    changes of one run happen one after the other, each seeing the one before."""
    run = await RunsRepository(db).lock(actor.org_id, run_id)
    if run is None:
        raise not_found()
    return run


async def _live_run(db: AsyncSession, actor: Actor, run_id: str) -> Run:
    """A run that may still change: archived runs are read-only until activated."""
    run = await _locked_run(db, actor, run_id)
    if run.deleted_at is not None:
        raise invalid_field(
            "archived_at", "Archived processes can't be changed. Activate it first."
        )
    return run


async def update_run(
    db: AsyncSession, actor: Actor, run_id: str, body: RunUpdate, api_base: str
) -> Run:
    run = await _live_run(db, actor, run_id)
    require_not_light(actor)
    before = {name: getattr(run, name) for name in RECORDED}
    await check_members(db, actor.org_id, owner_id=body.owner_id, users=body.users)
    await check_group_ids(db, actor.org_id, body.groups or [])
    for name in ("name", "summary", "owner_id", "starred", "is_public"):
        value = getattr(body, name)
        if value is not None:
            setattr(run, name, value)
    if body.users is not None:
        run.users = list(dict.fromkeys(body.users))
    if body.groups is not None:
        run.groups = list(dict.fromkeys(body.groups))
    if body.prerun is not None:
        run.prerun = await _updated_prerun(db, actor, run, body.prerun, api_base)
    run.updated_at = now()
    await db.flush()
    await _record_changes(db, actor, run, before)
    if body.prerun is not None or body.name is not None:
        await variables.refresh(db, run)
    if body.prerun is not None:
        await apply_rules(db, run, actor)
    return run


async def _updated_prerun(
    db: AsyncSession, actor: Actor, run: Run, given: dict[str, Any], api_base: str
) -> dict[str, Any]:
    """The run's kick-off values with `given` merged in; a required field can't be cleared."""
    fields = await versions.kickoff_fields_of_run(db, run)
    ctx = ValueContext(db=db, org_id=actor.org_id, api_base=api_base)
    changed = await clean_values(ctx, fields, given, "prerun")
    cleared = {
        f"prerun.{f.id}": [f"{f.label} is required"]
        for f in fields
        if f.required and f.id in changed and changed[f.id] is None
    }
    if cleared:
        raise invalid(cleared)
    merged = {**run.prerun, **changed}
    return {k: v for k, v in merged.items() if v is not None}


async def set_prerun_complete(db: AsyncSession, actor: Actor, run_id: str, done: bool) -> Run:
    run = await _live_run(db, actor, run_id)
    require_not_light(actor)
    was = "completed" if run.prerun_completed_at is not None else "pending"
    run.prerun_completed_at = now() if done else None
    run.prerun_completed_by = actor.user_id if done else None
    await db.flush()
    now_is = "completed" if done else "pending"
    if now_is != was:
        await record(
            db,
            actor,
            run,
            "updated",
            f"{'Completed' if done else 'Reopened'} the kick-off form of {run.name}",
            field="prerun_status",
            old_value=was,
            new_value=now_is,
        )
    # The kick-off's submission is an event rules are evaluated on (the answer says so).
    await apply_rules(db, run, actor)
    await sync_run_status(db, run.id, actor)
    return run


async def archive(db: AsyncSession, actor: Actor, run_id: str) -> Run:
    run = await _locked_run(db, actor, run_id)
    require_not_light(actor)
    await archive_locked(db, run, actor)
    return run


async def archive_locked(db: AsyncSession, run: Run, actor: Actor | None) -> None:
    """Archives a run the caller has locked, with everything in it (actor None: the system,
    as the organization's auto-archive does)."""
    if run.deleted_at is None:
        when = now()
        run.status_before_archive, run.status, run.deleted_at = run.status, "archived", when
        await record(db, actor, run, "archived", f"Archived {run.name}")
        await TasksRepository(db).set_archived_with_run(run.id, when)
        await FilesRepository(db).set_archived(when, run_id=run.id)
        await CommentsRepository(db).set_archived(when, run_id=run.id)
        await db.flush()


async def activate(db: AsyncSession, actor: Actor, run_id: str) -> Run:
    run = await _locked_run(db, actor, run_id)
    require_not_light(actor)
    if run.deleted_at is not None:
        run.status = run.status_before_archive or "active"
        run.status_before_archive, run.deleted_at = None, None
        await record(db, actor, run, "unarchived", f"Restored {run.name}")
        await TasksRepository(db).restore_with_run(run.id)
        await FilesRepository(db).restore_archived(run_id=run.id)
        await CommentsRepository(db).restore_archived(run_id=run.id)
        await db.flush()
    return run


async def purge(
    db: AsyncSession, store: BlobStore, actor: Actor, run_id: str, archived_only: bool = False
) -> None:
    """`archived_only`: the web app's rule (archive first, then delete); the API's route
    purges a live run too."""
    run = await _locked_run(db, actor, run_id)
    require_admin(actor)
    if archived_only and run.deleted_at is None:
        raise invalid_field("archived_at", "Archive the process before deleting it.")
    keys = await FilesRepository(db).storage_keys(run_id=run.id)
    await record(db, actor, run, "deleted", f"Deleted {run.name}")
    await RunsRepository(db).purge(run.id)
    await commit_then_discard(db, store, keys)
