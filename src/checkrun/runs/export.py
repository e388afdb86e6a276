"""A process exported: as JSON (`POST /runs/{id}/export`, the Go CLI's `process export`) and as
Tallyfy's 45-column CSV (one row per kick-off field, task, task form field and task comment)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.comments.models import ISSUE, Comment
from checkrun.comments.repository import CommentsRepository
from checkrun.groups.repository import GroupsRepository
from checkrun.kit.auth import Actor, require_not_light
from checkrun.kit.clock import iso
from checkrun.kit.includes import parse_with
from checkrun.members.repository import MembersRepository
from checkrun.runs.models import Run
from checkrun.runs.schemas import RunRead
from checkrun.runs.service import get_run, read_runs
from checkrun.tags.repository import TagsRepository
from checkrun.tasks.models import Task
from checkrun.tasks.repository import TasksRepository
from checkrun.templates.models import Capture
from checkrun.templates.versions import kickoff_fields_of_run, task_fields_of_run

# What the JSON export includes: the run with everything in it.
EXPORTED = "checklist,tasks,tasks.threads,form_fields,tags,folders,threads,assets"

# Tallyfy's process CSV, column for column ("What is the structure of the CSV export of a
# single process?", tallyfy.com/products/pro/integrations/analytics).
COLUMNS = (
    "blueprint_id",
    "blueprint_name",
    "blueprint_version",
    "process_id",
    "process_name",
    "process_tag",
    "process_owner",
    "process_owner_id",
    "total_tasks_in_process",
    "tasks_completed",
    "process_status",
    "process_last_modified",
    "type",
    "has_form_fields",
    "kick_off_task_id",
    "kick_off_task_name",
    "process_task_id",
    "process_task_status",
    "process_task_name",
    "process_task_alias",
    "process_task_data_id",
    "process_task_data_name",
    "process_task_comment_id",
    "process_task_comment_name",
    "user_assigned",
    "assigned_user_id",
    "guest_assigned",
    "total_users_assigned",
    "total_guests_assigned",
    "total_assignees",
    "completed_by",
    "assigned_or_shown_on",
    "due_by",
    "completed_on",
    "no_of_form_fields",
    "form_field_type",
    "question_in_form_field",
    "answer_in_form_field",
    "issue_reported",
    "no_of_issue_reported",
    "issue_resolved",
    "no_of_issue_resolved",
    "total_comments",
    "comment",
    "last_modified",
)
KICK_OFF_NAME = "Kick-off form"


async def export_json(db: AsyncSession, actor: Actor, run_id: str, api_base: str) -> RunRead:
    require_not_light(actor)
    run = await get_run(db, actor, run_id)
    (read,) = await read_runs(db, [run], parse_with(EXPORTED), api_base)
    return read


@dataclass
class Loaded:
    """Everything the CSV of one run reads, each kind in one statement."""

    run: Run
    tags: list[str]
    tasks: list[Task]
    fields: dict[str, list[Capture]]
    values: dict[str, dict[str, Any]]
    kickoff: list[Capture]
    comments: dict[str, list[Comment]]
    names: dict[int, str]
    groups: dict[str, str]
    process: dict[str, str] = field(default_factory=dict)


async def export_csv(db: AsyncSession, actor: Actor, run_id: str) -> tuple[Run, str]:
    """The run and its CSV text."""
    require_not_light(actor)
    run = await get_run(db, actor, run_id)
    loaded = await _load(db, run)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in _rows(loaded):
        writer.writerow([row.get(name, "") for name in COLUMNS])
    return run, out.getvalue()


async def _load(db: AsyncSession, run: Run) -> Loaded:
    tasks_repo = TasksRepository(db)
    tasks = [t for t in (await tasks_repo.tasks_of_runs([run.id])).get(run.id, [])]
    links = (await TagsRepository(db).links_of(run.org_id, "Run", [run.id])).get(run.id, [])
    people = {run.owner_id, *(t.completer_id for t in tasks if t.completer_id)}
    groups: set[str] = set()
    for task in tasks:
        owners = task.owner_lists()
        people.update(owners["users"])
        groups.update(owners["groups"])
    members = await MembersRepository(db).members(run.org_id, sorted(people))
    loaded = Loaded(
        run=run,
        tags=[tag.title for _, tag in links],
        tasks=tasks,
        fields=await task_fields_of_run(db, run, tasks),
        values=await tasks_repo.values_of([t.id for t in tasks]),
        kickoff=await kickoff_fields_of_run(db, run),
        comments=await CommentsRepository(db).of_tasks(run.org_id, [t.id for t in tasks]),
        names={user.id: f"{user.first_name} {user.last_name}".strip() for user, _ in members},
        groups=await GroupsRepository(db).names_of(run.org_id, sorted(groups)),
    )
    loaded.process = _process_columns(loaded)
    return loaded


def _process_columns(loaded: Loaded) -> dict[str, str]:
    run = loaded.run
    counted = [t for t in loaded.tasks if t.deleted_at is None or run.deleted_at is not None]
    return {
        "blueprint_id": run.checklist_id,
        "blueprint_name": run.checklist_title,
        "blueprint_version": str(run.version),
        "process_id": run.id,
        "process_name": run.name,
        "process_tag": ",".join(loaded.tags),
        "process_owner": loaded.names.get(run.owner_id, ""),
        "process_owner_id": str(run.owner_id),
        "total_tasks_in_process": str(len(counted)),
        "tasks_completed": str(sum(t.status == "completed" for t in counted)),
        "process_status": run.status,
        "process_last_modified": iso(run.updated_at) or "",
    }


def _rows(loaded: Loaded) -> Iterable[dict[str, str]]:
    run = loaded.run
    for capture in loaded.kickoff:
        yield {
            **loaded.process,
            "type": "kick_off_task",
            "has_form_fields": "Yes",
            "kick_off_task_id": run.checklist_id,
            "kick_off_task_name": KICK_OFF_NAME,
            "process_task_data_id": capture.id,
            "process_task_data_name": KICK_OFF_NAME,
            **_field_columns(capture, run.prerun or {}),
            "last_modified": iso(run.updated_at) or "",
        }
    for task in loaded.tasks:
        if task.deleted_at is not None and run.deleted_at is None:
            continue
        columns = {**loaded.process, **_task_columns(loaded, task)}
        yield {**columns, "type": "process_task", "last_modified": iso(task.updated_at) or ""}
        values = loaded.values.get(task.id, {})
        for capture in loaded.fields.get(task.id, []):
            yield {
                **columns,
                "type": "process_task_data",
                "process_task_data_id": capture.id,
                "process_task_data_name": task.title,
                **_field_columns(capture, values),
                "last_modified": iso(task.updated_at) or "",
            }
        for comment in loaded.comments.get(task.id, []):
            yield {**columns, **_comment_columns(comment, task)}


def _task_columns(loaded: Loaded, task: Task) -> dict[str, str]:
    owners = task.owner_lists()
    users, guests, groups = owners["users"], owners["guests"], owners["groups"]
    comments = loaded.comments.get(task.id, [])
    issues = [c for c in comments if c.label == ISSUE]
    hidden = task.status == "auto-skipped"
    return {
        "has_form_fields": "Yes" if loaded.fields.get(task.id) else "No",
        "process_task_id": task.id,
        "process_task_status": "hidden" if hidden else "shown",
        "process_task_name": task.title,
        "process_task_alias": task.alias or "",
        "user_assigned": ", ".join(
            [loaded.names.get(u, str(u)) for u in users]
            + [f"GROUP - {loaded.groups.get(g, g)}" for g in groups]
        ),
        "assigned_user_id": ",".join([str(u) for u in users] + [f"GROUP_{g}" for g in groups]),
        "guest_assigned": ",".join(guests),
        "total_users_assigned": str(len(users)),
        "total_guests_assigned": str(len(guests)),
        "total_assignees": str(len(users) + len(guests) + len(groups)),
        "completed_by": str(task.completer_id) if task.completer_id else "",
        "assigned_or_shown_on": "" if hidden else iso(task.started_at) or "",
        "due_by": iso(task.deadline) or "",
        "completed_on": iso(task.completed_at) or "",
        "no_of_form_fields": str(len(loaded.fields.get(task.id, []))),
        "no_of_issue_reported": str(len(issues)),
        "no_of_issue_resolved": str(sum(c.resolved_at is not None for c in issues)),
        "total_comments": str(sum(c.label != ISSUE and c.resolve_id is None for c in comments)),
    }


def _field_columns(capture: Capture, values: dict[str, Any]) -> dict[str, str]:
    return {
        "form_field_type": capture.field_type,
        "question_in_form_field": capture.label,
        "answer_in_form_field": answer_text(values.get(capture.id)),
    }


def _comment_columns(comment: Comment, task: Task) -> dict[str, str]:
    issue = comment.label == ISSUE
    return {
        "type": "process_task_comment",
        "process_task_comment_id": comment.id,
        "process_task_comment_name": task.title,
        "issue_reported": "Yes" if issue else "No",
        "issue_resolved": "Yes" if issue and comment.resolved_at is not None else "No",
        "comment": comment.content,
        "last_modified": iso(comment.created_at) or "",
    }


def answer_text(value: Any) -> str:
    """A stored value as a cell: options by their text, lists and assignees joined with
    commas, files by name, a table row per line."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(t for t in (answer_text(v) for v in value if _selected(v)) if t)
    if isinstance(value, dict):
        for key in ("text", "name", "filename", "label"):
            if key in value:
                return str(value[key] or "")
        if any(k in value for k in ("users", "guests", "groups")):
            return ", ".join(
                str(v) for k in ("users", "guests", "groups") for v in value.get(k) or []
            )
        return ", ".join(f"{k}: {answer_text(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def _selected(item: Any) -> bool:
    """A multiselect keeps every option with `selected`; only ticked ones are answers."""
    return not (isinstance(item, dict) and item.get("selected") is False)
