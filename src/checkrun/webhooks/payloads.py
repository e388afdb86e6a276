"""Webhook bodies (§3.13), read from the database inside the transaction of the change, so each
one is a snapshot of that moment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit.clock import iso
from checkrun.kit.includes import Includes
from checkrun.members.models import User
from checkrun.runs.models import Run
from checkrun.runs.service import read_runs
from checkrun.tags.service import tags_included
from checkrun.tasks.models import Task
from checkrun.tasks.repository import OPEN, TasksRepository
from checkrun.templates.models import Capture, Checklist
from checkrun.templates.repository import TemplatesRepository
from checkrun.webhooks.repository import WebhooksRepository

Json = dict[str, Any]


@dataclass
class RunState:
    """A run with its tasks, their form fields and values, and its kick-off fields."""

    run: Run | None
    tasks: list[Task] = field(default_factory=list)
    fields: dict[str, list[Capture]] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    prerun_fields: list[Capture] = field(default_factory=list)
    people: dict[int, User] = field(default_factory=dict)
    guest_codes: dict[str, str] = field(default_factory=dict)

    def person(self, user_id: int | None) -> Json | None:
        user = self.people.get(user_id) if user_id is not None else None
        if user is None:
            return None
        return {"id": user.id, "email": user.email, "full_name": user.full_name}


async def load(db: AsyncSession, org_id: str, run: Run | None, tasks: list[Task]) -> RunState:
    """`tasks`: the run's tasks, or the one standalone task when there is no run."""
    repo = TasksRepository(db)
    prerun: list[Capture] = []
    if run is not None:
        tasks = (await repo.tasks_of_runs([run.id])).get(run.id, [])
        prerun = (await TemplatesRepository(db).prerun_of([run.checklist_id])).get(
            run.checklist_id, []
        )
    state = RunState(
        run=run,
        tasks=tasks,
        fields=await repo.fields_of(tasks),
        values=dict(await repo.values_of([t.id for t in tasks])),
        prerun_fields=prerun,
    )
    wanted: list[int | None] = [t.completer_id for t in tasks] + [t.starter_id for t in tasks]
    wanted += [int(o.ref) for t in tasks for o in t.owners if o.kind == "user"]
    if run is not None:
        wanted.append(run.started_by)
    hooks = WebhooksRepository(db)
    state.people = await hooks.people(org_id, wanted)
    state.guest_codes = await hooks.guest_codes(
        org_id, [o.ref for t in tasks for o in t.owners if o.kind == "guest"]
    )
    return state


def _captures(state: RunState, task: Task) -> Json:
    values = state.values.get(task.id, {})
    return {
        c.id: {"alias": c.alias, "label": c.label, "value": values.get(c.id)}
        for c in state.fields.get(task.id, [])
    }


def _owners(state: RunState, task: Task) -> Json:
    lists = task.owner_lists()
    users = [state.person(u) or {"id": u, "email": None, "full_name": None} for u in lists["users"]]
    return {"users": users, "guests": lists["guests"], "groups": lists["groups"]}


def _process_tasks(state: RunState) -> Json:
    """`{alias: task id}`; a task without an alias, or whose alias is taken, by its id."""
    out: Json = {}
    for task in state.tasks:
        key = task.alias if task.alias and task.alias not in out else task.id
        out[key] = task.id
    return out


def _ko_form_fields(state: RunState) -> Json:
    prerun = state.run.prerun if state.run is not None else {}
    return {f.alias: (prerun or {}).get(f.id) for f in state.prerun_fields}


def _form_fields(state: RunState) -> Json:
    """Every value of the run, flat by alias: the kick-off form, then each task's fields."""
    out = _ko_form_fields(state)
    for task in state.tasks:
        for capture in _captures(state, task).values():
            out[capture["alias"]] = capture["value"]
    return out


def _guest_links(state: RunState) -> Json:
    """Every guest assigned in the run, with their access link (relative, like `ClientURL`:
    the payload is built without a request to take the host from); null for an address that
    is not a guest of the organization."""
    org_id = state.run.org_id if state.run else (state.tasks[0].org_id if state.tasks else "")
    emails = dict.fromkeys(o.ref for t in state.tasks for o in t.owners if o.kind == "guest")
    links: Json = {}
    for email in emails:
        code = state.guest_codes.get(email.lower())
        links[email] = {"link_for_guest": f"guest-all-task/{org_id}/{code}" if code else None}
    return links


def _task_summary(state: RunState, task: Task) -> Json:
    return {
        "id": task.id,
        "title": task.title,
        "alias": task.alias,
        "status": task.status,
        "summary": task.summary,
        "position": task.position,
        "deadline": iso(task.deadline),
        "captures": _captures(state, task),
        "owners": _owners(state, task),
    }


def _next_task(state: RunState, after: Task) -> Json | list[Any]:
    """The first visible incomplete task by position; `[]` when there is none."""
    for task in sorted(state.tasks, key=lambda t: (t.position, t.id)):
        if task.id != after.id and task.status in OPEN and task.deleted_at is None:
            return _task_summary(state, task)
    return []


async def process_payload(db: AsyncSession, event: str, run: Run) -> Json:
    state = await load(db, run.org_id, run, [])
    (read,) = await read_runs(db, [run], Includes())
    return {
        **read.model_dump(mode="json"),
        "event": event,
        "process-tasks": _process_tasks(state),
        "ko-form-fields": _ko_form_fields(state),
        "guest-links": _guest_links(state),
        "launcher": state.person(run.started_by),
    }


async def task_payload(
    db: AsyncSession, event: str, task: Task, run: Run | None, checklist: Checklist | None
) -> Json:
    state = await load(db, task.org_id, run, [task])
    assets = await WebhooksRepository(db).assets_of_task(task.org_id, task.id)
    this_task = {
        **_task_summary(state, task),
        "completed_at": iso(task.completed_at),
        "completed_by": state.person(task.completer_id),
        "assets": [
            {
                "id": a.id,
                "filename": a.filename,
                "version": a.version,
                "public_link": f"organizations/{a.org_id}/file/{a.id}/dl",
            }
            for a in assets
        ],
    }
    return {
        "event": event,
        "this_task": this_task,
        "launcher": state.person(run.started_by if run else task.starter_id),
        "completer": state.person(task.completer_id),
        "process-tasks": _process_tasks(state) if run else {},
        "form-fields": _form_fields(state),
        "template": _template(checklist),
        "process": await _process(db, state) if run else None,
        "guest-links": _guest_links(state),
        "next_task": _next_task(state, task) if run else [],
    }


def _template(checklist: Checklist | None) -> Json | None:
    if checklist is None:
        return None
    return {
        "id": checklist.id,
        "title": checklist.title,
        "alias": (checklist.settings or {}).get("alias"),
        "summary": checklist.summary,
    }


async def _process(db: AsyncSession, state: RunState) -> Json:
    run = state.run
    assert run is not None
    (read,) = await read_runs(db, [run], Includes())
    links = (await tags_included(db, run.org_id, "Run", [run.id])).get(run.id, [])
    forms: Json = {}
    for task in state.tasks:
        if task.step_id:
            forms.setdefault(task.step_id, {}).update(_captures(state, task))
    return {
        "id": run.id,
        "organization_id": run.org_id,
        "name": run.name,
        "summary": run.summary,
        "status": run.status,
        "progress": read.progress.model_dump(mode="json"),
        "created_at": iso(run.created_at),
        "ClientURL": f"organizations/{run.org_id}/runs/{run.id}",
        "prerun": run.prerun or {},
        "process_forms": forms,
        "tags": [
            {"id": link["tag_id"], "name": link["title"], "color": link["color"]} for link in links
        ],
    }
