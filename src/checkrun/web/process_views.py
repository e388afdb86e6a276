"""What the process pages show and do, through the API's services: the process list and its
filters, a process with its tasks and kick-off values, launching, one-off tasks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.groups import service as groups
from checkrun.kit.auth import Actor
from checkrun.kit.clock import now
from checkrun.kit.includes import Includes
from checkrun.kit.pagination import PageParams
from checkrun.members import service as members
from checkrun.runs import service as runs
from checkrun.runs.models import Run
from checkrun.runs.repository import RunFilters
from checkrun.runs.schemas import RunLaunch, RunRead
from checkrun.storage import BlobStore
from checkrun.tags import service as tags
from checkrun.tags.repository import TagFilters
from checkrun.tasks import service as tasks
from checkrun.tasks.models import ReadableTask, Task
from checkrun.tasks.repository import TaskFilters
from checkrun.tasks.schemas import STATUS_LABELS, OneOffTaskCreate, Owners
from checkrun.templates import service as templates
from checkrun.templates.automations import text_of
from checkrun.templates.models import Capture, Checklist
from checkrun.web.forms import taskdata_from

PER_PAGE = 20
# The process page lists this many tasks (a process has tens; the rest are counted).
MOST_TASKS = 200
# (value, label) of the list's status filter; "" is every process that is not archived.
STATUSES = (
    ("", "All open and complete"),
    ("active", "Active"),
    ("complete", "Complete"),
    ("archived", "Archived"),
)
CHOICES = 100


@dataclass
class Choice:
    id: str
    label: str


@dataclass
class ProcessList:
    rows: list[RunRead]
    total: int
    page: int
    pages: int
    status: str
    template: str
    tag: str
    templates: list[Choice]
    tags: list[Choice]


def _name(first: str | None, last: str | None, email: str) -> str:
    return f"{first or ''} {last or ''}".strip() or email


async def template_choices(db: AsyncSession, actor: Actor) -> list[Choice]:
    return await template_search(db, actor, None)


async def template_search(db: AsyncSession, actor: Actor, q: str | None) -> list[Choice]:
    found = await templates.checklist_titles(
        db, actor, PageParams(1, CHOICES), templates.checklist_filters(q=q, sort="title")
    )
    return [Choice(template_id, title) for template_id, title in found]


async def tag_choices(db: AsyncSession, actor: Actor) -> list[Choice]:
    found, _ = await tags.list_tags(db, actor, PageParams(1, CHOICES), TagFilters(sort="title"))
    return [Choice(t.id, t.title) for t in found]


async def process_list(
    db: AsyncSession, actor: Actor, status: str, template: str, tag: str, page: int
) -> ProcessList:
    status = status if status in dict(STATUSES) else ""
    filters = RunFilters(
        status=status or None, checklist_id=template or None, tags=(tag,) if tag else ()
    )
    found, total = await runs.list_runs(db, actor, PageParams(max(page, 1), PER_PAGE), filters)
    pages = max(1, -(-total // PER_PAGE))
    if page > pages and total:
        page = pages
        found, total = await runs.list_runs(db, actor, PageParams(page, PER_PAGE), filters)
    reads = await runs.read_runs(db, found.runs, Includes(), stats=found.stats)
    return ProcessList(
        reads,
        total,
        page,
        pages,
        status,
        template,
        tag,
        await template_choices(db, actor),
        await tag_choices(db, actor),
    )


@dataclass
class TaskRow:
    task: ReadableTask
    state: str
    late: bool
    assignees: list[str]


@dataclass
class KickoffValue:
    label: str
    text: str


@dataclass
class ProcessView:
    run: Run
    read: RunRead
    tasks: list[TaskRow]
    task_total: int
    kickoff: list[KickoffValue]


async def _people(db: AsyncSession, actor: Actor, found: Sequence[ReadableTask]) -> dict[str, str]:
    """Display names of every assignee of these tasks, keyed `user:<id>` / `group:<id>`."""
    lists = [t.owner_lists() for t in found]
    user_ids = list({u for ls in lists for u in ls["users"]})
    names = {
        f"user:{u.id}": _name(u.first_name, u.last_name, u.email)
        for u in await members.read_members(db, actor.org_id, user_ids)
    }
    if any(ls["groups"] for ls in lists):
        found_groups, _ = await groups.list_groups(db, actor, PageParams(1, 1000), None, None)
        names |= {f"group:{g.id}": g.name for g in found_groups}
    return names


def _assignees(task: ReadableTask, names: dict[str, str]) -> list[str]:
    lists = task.owner_lists()
    return (
        [names.get(f"user:{u}", f"Member {u}") for u in lists["users"]]
        + [f"{names.get(f'group:{g}', 'A group')} (group)" for g in lists["groups"]]
        + [f"{g} (guest)" for g in lists["guests"]]
    )


def _is_late(task: ReadableTask, at: datetime) -> bool:
    return (
        task.status not in ("completed", "auto-skipped")
        and task.deadline is not None
        and task.deadline < at
    )


async def process_view(db: AsyncSession, actor: Actor, run_id: str) -> ProcessView:
    run = await runs.get_run(db, actor, run_id)
    (read,) = await runs.read_runs(db, [run], Includes())
    found, total = await runs.list_tasks_of_run(
        db, actor, run.id, PageParams(1, MOST_TASKS), TaskFilters()
    )
    names = await _people(db, actor, found)
    at = now()
    rows = [
        TaskRow(t, STATUS_LABELS.get(t.status, t.status), _is_late(t, at), _assignees(t, names))
        for t in found
    ]
    fields = await runs.kickoff_fields(db, run)
    known = {f.id for f in fields}
    kickoff = [KickoffValue(f.label, text_of(run.prerun.get(f.id)) or "—") for f in fields]
    # A value whose field has left the template is still the process's own.
    kickoff += [
        KickoffValue(key, text_of(value))
        for key, value in (run.prerun or {}).items()
        if key not in known
    ]
    return ProcessView(run, read, rows, total, kickoff)


async def archive(db: AsyncSession, actor: Actor, run_id: str) -> Run:
    return await runs.archive(db, actor, run_id)


async def restore(db: AsyncSession, actor: Actor, run_id: str) -> Run:
    return await runs.activate(db, actor, run_id)


async def delete(db: AsyncSession, store: BlobStore, actor: Actor, run_id: str) -> None:
    """Commits (the stored bytes go after the records)."""
    await runs.purge(db, store, actor, run_id, archived_only=True)


@dataclass
class LaunchForm:
    checklist: Checklist
    fields: list[Capture]
    values: dict[str, Any]
    errors: dict[str, str]
    name: str
    members: list[tuple[int, str]]


async def launch_form(
    db: AsyncSession,
    actor: Actor,
    checklist_id: str,
    posted: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> LaunchForm:
    checklist, fields = await runs.launch_form(db, actor, checklist_id)
    values = taskdata_from(fields, posted) if posted is not None else {}
    people = (
        await member_choices(db, actor)
        if any(f.field_type == "assignees_form" for f in fields)
        else []
    )
    name = str((posted or {}).get("name", ""))
    return LaunchForm(checklist, fields, values, errors or {}, name, people)


async def launch(
    db: AsyncSession, actor: Actor, checklist_id: str, form: dict[str, Any], api_base: str
) -> Run:
    """The kick-off values through the API's validator (`prerun.<field id>` errors)."""
    _, fields = await runs.launch_form(db, actor, checklist_id)
    prerun = {k: v for k, v in taskdata_from(fields, form).items() if v is not None}
    name = str(form.get("name", "")).strip()
    body = RunLaunch.model_validate(
        {"checklist_id": checklist_id, "name": name[:550] or None, "prerun": prerun}
    )
    return await runs.launch(db, actor, body, api_base)


async def member_choices(db: AsyncSession, actor: Actor) -> list[tuple[int, str]]:
    return [(m.id, m.full_name.strip() or m.email) for m in await members.list_brief(db, actor)]


async def group_choices(db: AsyncSession, actor: Actor) -> list[Choice]:
    found, _ = await groups.list_groups(db, actor, PageParams(1, CHOICES), None, None)
    return [Choice(g.id, g.name) for g in found]


def _ids(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value] if value else []
    return [v for v in items if isinstance(v, str) and v]


def one_off_body(form: dict[str, Any]) -> OneOffTaskCreate:
    """The form as the API's body; pydantic's refusals are the caller's to show."""
    users = [int(v) for v in _ids(form.get("users")) if v.isdigit() and len(v) <= 10]
    date, time = str(form.get("deadline_date", "")), str(form.get("deadline_time", "")) or "17:00"
    deadline = f"{date}T{time}:00Z" if date else ""
    description = str(form.get("description", "")).strip()
    return OneOffTaskCreate.model_validate(
        {
            "title": str(form.get("title", "")).strip(),
            "task_type": "task",
            "owners": Owners(users=users, groups=_ids(form.get("groups"))),
            "deadline": deadline,
            "summary": description or None,
        }
    )


async def create_task(db: AsyncSession, actor: Actor, body: OneOffTaskCreate) -> Task:
    return await tasks.create_one_off(db, actor, body)
