"""What the member pages show and do, through the API's own services: the inbox, a task with
its form, comments, completion. No SQL here; each page's reads are batched."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.activity import service as activity
from checkrun.activity.repository import FeedFilters
from checkrun.comments import service as comments
from checkrun.comments.schemas import CommentCreate, IssueReport, ResolveThread
from checkrun.files import service as files
from checkrun.files.models import Asset
from checkrun.kit.auth import Actor
from checkrun.kit.clock import iso
from checkrun.kit.errors import invalid
from checkrun.kit.includes import Includes
from checkrun.kit.pagination import PageParams
from checkrun.members.repository import MembersRepository
from checkrun.orgs.repository import OrgsRepository
from checkrun.runs.repository import RunsRepository
from checkrun.tasks import completion
from checkrun.tasks import service as tasks
from checkrun.tasks.models import ReadableTask, Task
from checkrun.tasks.repository import UPCOMING, TaskFilters, TasksRepository
from checkrun.tasks.schemas import CompleteTask, Owners, TaskRead, TaskUpdate
from checkrun.templates.models import Capture
from checkrun.web.forms import taskdata_from

M = TypeVar("M", bound=BaseModel)
PER_PAGE = 20
# (key, heading, status filter, sort)
SECTIONS = (
    ("overdue", "Overdue", "overdue", "deadline"),
    ("due-soon", "Due soon", "due_soon", "deadline"),
    ("upcoming", "Upcoming", UPCOMING, "deadline"),
    ("completed", "Completed", "completed", "completed_newest"),
)


@dataclass
class InboxRow:
    task: ReadableTask
    process: str | None


@dataclass
class Inbox:
    section: str
    heading: str
    counts: dict[str, int]
    rows: list[InboxRow]
    page: int
    pages: int
    q: str


def _filters(status: str, sort: str, q: str) -> TaskFilters:
    return TaskFilters(status=status, sort=sort, q=q or None)


async def inbox(db: AsyncSession, actor: Actor, section: str | None, q: str, page: int) -> Inbox:
    """My tasks (directly or through my groups) in four sections, each counted; one page of
    the chosen section (by default the first open one that has tasks)."""
    mine = await tasks.count_member_tasks(
        db, actor, _filters("", "", q), actor.user_id, tuple(s[2] for s in SECTIONS)
    )
    counts = {key: mine.counts[status] for key, _, status, _ in SECTIONS}
    chosen = (
        section
        if section in counts
        else next((k for k, *_ in SECTIONS[:3] if counts[k]), "upcoming")
    )
    _, heading, status, sort = next(s for s in SECTIONS if s[0] == chosen)
    pages = max(1, -(-counts[chosen] // PER_PAGE))
    page = min(max(page, 1), pages)
    found = await tasks.member_task_page(db, actor, mine, status, sort, PageParams(page, PER_PAGE))
    names = await process_names(db, actor.org_id, found)
    rows = [InboxRow(t, names.get(t.run_id or "")) for t in found]
    return Inbox(chosen, heading, counts, rows, page, pages, q)


async def process_names(
    db: AsyncSession, org_id: str, found: Sequence[ReadableTask]
) -> dict[str, str]:
    runs = await RunsRepository(db).by_ids(org_id, list({t.run_id for t in found if t.run_id}))
    return {r.id: r.name for r in runs}


async def org_names(db: AsyncSession, org_ids: list[str]) -> dict[str, str]:
    repo = OrgsRepository(db)
    out = {}
    for org_id in org_ids:
        org = await repo.get(org_id)
        if org is not None:
            out[org_id] = org.name
    return out


@dataclass
class Thread:
    author: str
    content: str
    created_at: str | None
    label: str
    hidden_for_guests: bool
    id: str = ""
    # An issue that a resolution answered (issue and resolution point at each other).
    resolved: bool = False


@dataclass
class FieldView:
    capture: Capture
    value: Any
    error: str | None = None


@dataclass
class HistoryRow:
    when: datetime | None
    who: str
    what: str


@dataclass
class TaskView:
    task: Task
    read: TaskRead
    process: str | None
    assignees: list[str]
    fields: list[FieldView]
    threads: list[Thread]
    members: list[tuple[int, str]] = field(default_factory=list)
    files: list[Asset] = field(default_factory=list)
    history: list[HistoryRow] = field(default_factory=list)


def _name(first: str | None, last: str | None, email: str) -> str:
    full = f"{first or ''} {last or ''}".strip()
    return full or email


async def _people(db: AsyncSession, org_id: str, ids: list[int]) -> dict[int, str]:
    found = await MembersRepository(db).members(org_id, ids)
    return {u.id: _name(u.first_name, u.last_name, u.email) for u, _ in found}


async def build_task_view(
    db: AsyncSession,
    task: Task,
    *,
    for_guest: bool,
    errors: dict[str, str] | None = None,
    posted: dict[str, Any] | None = None,
) -> TaskView:
    """A task as its page shows it. `posted`: values the member just sent (shown again beside
    their errors rather than the stored ones)."""
    wanted = Includes({"threads"})
    (read,) = await tasks.read_tasks(db, [task], wanted, for_guest=for_guest)
    fields = (await TasksRepository(db).fields_of([task]))[task.id]
    values = dict(read.taskdata)
    if posted is not None:
        values.update(await posted_values(db, task, fields, posted, values))
    raw_threads = read.threads.data if read.threads else []
    lists = task.owner_lists()
    author_ids = [t["author_id"] for t in raw_threads if t.get("author_id")]
    people = await _people(db, task.org_id, list({*lists["users"], *author_ids}))
    threads = [
        Thread(
            author=_author(t, people),
            content=t["content"],
            created_at=t.get("created_at"),
            label=t.get("label", "comment"),
            hidden_for_guests=t.get("state") == "hide-for-guests",
            id=t["id"],
            resolved=t.get("resolve_id") is not None,
        )
        for t in raw_threads
    ]
    assignees = [people.get(u, f"Member {u}") for u in lists["users"]] + list(lists["guests"])
    assignees += [f"Group {g}" for g in lists["groups"]]
    names = await process_names(db, task.org_id, [task])
    return TaskView(
        task,
        read,
        names.get(task.run_id or ""),
        assignees,
        [FieldView(c, values.get(c.id), (errors or {}).get(c.id)) for c in fields],
        threads,
    )


async def allowed_files(
    db: AsyncSession, task: Task, values: dict[str, Any]
) -> dict[str, Asset | dict[str, Any]]:
    """What a file field may hold from the form: the task's own files, and those its fields
    already hold (the API may have set any file of the organization)."""
    held: dict[str, Asset | dict[str, Any]] = {
        str(a["id"]): a
        for v in values.values()
        if isinstance(v, list)
        for a in v
        if isinstance(a, dict) and "id" in a and "filename" in a
    }
    return held | {a.id: a for a in await files.files_of_task(db, task.org_id, task)}


async def form_values(
    db: AsyncSession, task: Task, fields: list[Capture], form: dict[str, Any]
) -> dict[str, Any]:
    """The taskdata a posted task form asks for."""
    current = (await TasksRepository(db).values_of([task.id])).get(task.id, {})
    allowed = await allowed_files(db, task, current)
    return _keeping_links(fields, taskdata_from(fields, form, set(allowed)), current)


def _keeping_links(
    fields: list[Capture], asked: dict[str, Any], current: dict[str, Any]
) -> dict[str, Any]:
    """A file field keeps the links set through the API (`source: "url"`): the form shows them
    but does not post them, so saving it must not drop them."""
    for f in fields:
        held = current.get(f.id)
        links = [i for i in held if _is_link(i)] if isinstance(held, list) else []
        if f.field_type == "file" and links:
            asked[f.id] = (asked.get(f.id) or []) + links
    return asked


def _is_link(item: Any) -> bool:
    return isinstance(item, dict) and item.get("source") == "url"


async def posted_values(
    db: AsyncSession,
    task: Task,
    fields: list[Capture],
    posted: dict[str, Any],
    values: dict[str, Any],
) -> dict[str, Any]:
    """The posted values shown again; a file field's ids as the files they name."""
    allowed = await allowed_files(db, task, values)
    out = taskdata_from(fields, posted, set(allowed))
    for f in fields:
        if f.field_type == "file" and out.get(f.id):
            out[f.id] = [_file_entry(allowed[i]) for i in out[f.id]]
    return out


def _file_entry(found: Asset | dict[str, Any]) -> dict[str, Any]:
    if isinstance(found, Asset):
        return {"id": found.id, "filename": found.filename}
    return found


def _author(thread: dict[str, Any], people: dict[int, str]) -> str:
    if thread.get("author_type") == "guest":
        return "Guest"
    if thread.get("author_id") is None:
        return "Bot"
    return people.get(int(thread["author_id"]), f"Member {thread['author_id']}")


async def member_choices(db: AsyncSession, actor: Actor, view: TaskView) -> None:
    """Members to pick from in an assignees field (only when the task has one)."""
    if not any(f.capture.field_type == "assignees_form" for f in view.fields):
        return
    found, _ = await MembersRepository(db).search(
        actor.org_id, PageParams(1, 100), None, "id", statuses=("active", "invited")
    )
    view.members = [(u.id, _name(u.first_name, u.last_name, u.email)) for u, _ in found]


async def fields_of(db: AsyncSession, task: Task) -> list[Capture]:
    return (await TasksRepository(db).fields_of([task]))[task.id]


async def task_for(db: AsyncSession, actor: Actor, task_id: str) -> Task:
    return await tasks.get_task(db, actor, task_id)


async def save_values(
    db: AsyncSession, actor: Actor, task: Task, form: dict[str, Any], api_base: str
) -> Task:
    """The form's values, without completing (PUT task with taskdata, as the API does)."""
    fields = (await TasksRepository(db).fields_of([task]))[task.id]
    changes: dict[str, Any] = {"taskdata": await form_values(db, task, fields, form)}
    if task.run_id is None:
        # The API's PUT on a one-off task requires these: send them unchanged.
        changes |= {
            "title": task.title,
            "deadline": iso(task.deadline),
            "owners": Owners(**task.owner_lists()),
        }
    body = TaskUpdate.model_validate(changes)
    return await tasks.update_task(db, actor, task.id, body, api_base, run_id=task.run_id)


async def complete(db: AsyncSession, actor: Actor, task: Task, approved: bool | None) -> Task:
    body = CompleteTask(task_id=task.id, is_approved=approved)
    return (await completion.complete(db, actor, body, run_id=task.run_id)).task


async def reopen(db: AsyncSession, actor: Actor, task: Task) -> Task:
    return await completion.reopen(db, actor, task.id, run_id=task.run_id)


async def comment(
    db: AsyncSession, actor: Actor, task: Task, content: str, show_guests: bool
) -> None:
    subject = await comments.task_subject(db, actor, task.id)
    body = CommentCreate(content=content, state="open" if show_guests else "hide-for-guests")
    await comments.add_comment(db, actor, subject, body)


async def archive(db: AsyncSession, actor: Actor, task: Task) -> Task:
    return await tasks.archive_one_off(db, actor, task.id)


HISTORY_ROWS = 50
PREVIEW_TYPES = ("image/png", "image/jpeg", "image/gif", "image/bmp")


async def task_extras(db: AsyncSession, actor: Actor, view: TaskView) -> None:
    """What a member's task page adds to the guest's: the task's files and its history (the
    newest entries of the activity feed that the member may see)."""
    view.files = await files.task_files(db, actor, view.task)
    entries, _ = await activity.list_feed(
        db,
        actor,
        PageParams(1, HISTORY_ROWS),
        FeedFilters(entity_type="task", entity_id=view.task.id),
    )
    view.history = [
        HistoryRow(_moment(e["created_at"]), _who(e), e["description"][0]) for e in entries
    ]


def _moment(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _who(entry: Any) -> str:
    actors = entry.get("actor") or []
    if not actors:
        return "System"
    found = actors[0]
    return str(found.get("full_name") or found.get("email") or "Someone")


def checked(model: type[M], **data: Any) -> M:
    """A request shape built from form values; what it refuses is a 422, as in the API."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid(
            {".".join(str(p) for p in e["loc"]) or "form": [e["msg"]] for e in exc.errors()}
        ) from None


async def report_problem(db: AsyncSession, actor: Actor, task: Task, content: str) -> None:
    subject = await comments.task_subject(db, actor, task.id)
    await comments.report_issue(db, actor, subject, checked(IssueReport, content=content))


async def resolve_problem(
    db: AsyncSession, actor: Actor, task: Task, thread_id: str, content: str
) -> None:
    subject = await comments.task_subject(db, actor, task.id)
    body = checked(ResolveThread, thread_id=thread_id, content=content or None)
    await comments.resolve(db, actor, subject, body)
