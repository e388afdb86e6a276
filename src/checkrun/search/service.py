"""Search across templates (`blueprint`), processes, tasks, steps and form fields (`capture`),
answered keyed by type as Tallyfy does. Snippets are not kept: `snippet` is always empty."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.folders.models import Folder
from checkrun.kit.auth import Actor
from checkrun.kit.clock import iso, now
from checkrun.kit.errors import invalid_field
from checkrun.kit.pagination import PageParams, pagination_meta
from checkrun.runs.repository import RunsRepository
from checkrun.runs.schemas import DUE_SOON
from checkrun.search import filters
from checkrun.search.repository import SearchRepository
from checkrun.tasks.schemas import STATUS_LABELS

TYPES = ("blueprint", "process", "task", "snippet", "capture", "step")
DEFAULT_ON = "blueprint,process,task"


@dataclass(frozen=True)
class SearchQuery:
    text: str | None
    on: str | None
    tags: str | None
    filter_items: list[tuple[str, str]]


def _kinds(on: str | None) -> list[str]:
    kinds = list(
        dict.fromkeys(k.strip().lower() for k in (on or DEFAULT_ON).split(",") if k.strip())
    )
    unknown = [k for k in kinds if k not in TYPES]
    if unknown or not kinds:
        raise invalid_field(
            "on",
            f"The selected on is invalid: {', '.join(unknown) or on}. Allowed: {', '.join(TYPES)}.",
        )
    return kinds


def _folder(f: Folder) -> dict[str, Any]:
    return {
        "id": f.id,
        "name": f.name,
        "folder_type": f.folder_type,
        "parent_id": f.parent_id,
        "position": f.position,
        "created_at": iso(f.created_at),
    }


def _due(deadline: Any, done: bool) -> dict[str, bool]:
    moment = now()
    live = deadline is not None and not done
    return {
        "due_date_passed": live and deadline < moment,
        "due_soon": live and moment <= deadline < moment + DUE_SOON,
    }


async def _blueprints(repo: SearchRepository, org_id: str, rows: list[Any]) -> list[dict[str, Any]]:
    counts = await repo.steps_count([r.id for r in rows])
    folders = await repo.folders_by_id(org_id, [r.folder_id for r in rows if r.folder_id])
    return [
        {
            "id": r.id,
            "increment_id": r.increment_id,
            "search_type": "blueprint",
            "title": r.title,
            "name": r.title,
            "summary": r.summary,
            "status": "active",
            "type": r.type,
            "steps_count": counts.get(r.id, 0),
            "icon": (r.settings or {}).get("icon"),
            "is_public": r.is_public,
            "is_featured": bool((r.settings or {}).get("is_featured")),
            "starred": r.starred,
            "organization_id": r.org_id,
            "created_by": r.created_by,
            "starter_id": r.created_by,
            "folders": [_folder(folders[r.folder_id])] if r.folder_id in folders else [],
            "created_at": iso(r.created_at),
            "last_updated": iso(r.updated_at),
        }
        for r in rows
    ]


async def _processes(
    db: AsyncSession, repo: SearchRepository, org_id: str, rows: list[Any]
) -> list[dict[str, Any]]:
    ids = [r.id for r in rows]
    stats = await RunsRepository(db).stats_of(ids)
    folders = await repo.folders_of(org_id, "Run", ids)
    out = []
    for r in rows:
        last = stats[r.id].last_deadline if r.id in stats else None
        out.append(
            {
                "id": r.id,
                "increment_id": r.increment_id,
                "search_type": "process",
                "name": r.name,
                "title": r.name,
                "summary": r.summary,
                "status": r.status,
                "type": r.type,
                "checklist_id": r.checklist_id,
                "checklist_title": r.checklist_title,
                "organization_id": r.org_id,
                "starter_id": r.started_by,
                "owner_id": r.owner_id,
                "is_public": r.is_public,
                "starred": r.starred,
                **_due(last, r.completed_at is not None),
                "folders": [_folder(f) for f in folders.get(r.id, [])],
                "created_at": iso(r.created_at),
                "completed_at": iso(r.completed_at),
            }
        )
    return out


async def _tasks(repo: SearchRepository, org_id: str, rows: list[Any]) -> list[dict[str, Any]]:
    folders = await repo.folders_of(org_id, "Task", [r.id for r in rows])
    return [
        {
            "id": r.id,
            "increment_id": r.increment_id,
            "search_type": "task",
            "title": r.title,
            "name": r.title,
            "status": r.status,
            "status_label": STATUS_LABELS.get(r.status, r.status),
            "type": r.task_type,
            "task_type": r.task_type,
            "run_id": r.run_id,
            "checklist_id": r.checklist_id,
            "step_id": r.step_id,
            "position": r.position,
            "deadline": iso(r.deadline),
            "starter_id": r.starter_id,
            "is_oneoff_task": r.step_id is None,
            "owners": r.owner_lists(),
            "organization_id": r.org_id,
            **_due(r.deadline, r.status == "completed"),
            "folders": [_folder(f) for f in folders.get(r.id, [])],
            "created_at": iso(r.created_at),
            "completed_at": iso(r.completed_at),
        }
        for r in rows
    ]


def _steps(rows: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "search_type": "step",
            "title": r.title,
            "name": r.title,
            "summary": r.summary,
            "type": r.step_type,
            "step_type": r.step_type,
            "position": r.position,
            "checklist_id": r.checklist_id,
            "folders": [],
            "created_at": iso(r.created_at),
        }
        for r in rows
    ]


def _captures(rows: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "search_type": "capture",
            "title": r.label,
            "name": r.label,
            "label": r.label,
            "type": r.field_type,
            "field_type": r.field_type,
            "required": r.required,
            "position": r.position,
            "step_id": r.step_id,
            "checklist_id": r.checklist_id,
            "task_id": r.task_id,
            "is_prerun": r.is_prerun,
            "organization_id": r.org_id,
            "folders": [],
            "created_at": iso(r.created_at),
        }
        for r in rows
    ]


async def _items(
    db: AsyncSession, repo: SearchRepository, kind: str, org_id: str, rows: list[Any]
) -> list[dict[str, Any]]:
    if kind == "blueprint":
        return await _blueprints(repo, org_id, rows)
    if kind == "process":
        return await _processes(db, repo, org_id, rows)
    if kind == "task":
        return await _tasks(repo, org_id, rows)
    return _steps(rows) if kind == "step" else _captures(rows)


async def search(
    db: AsyncSession, actor: Actor, request: Request, query: SearchQuery, page: PageParams
) -> dict[str, Any]:
    text = (query.text or "").strip()
    if not text:
        raise invalid_field("search", "The search field is required.")
    kinds = _kinds(query.on)
    where = filters.parse(query.filter_items)
    if where is not None:
        filters.check_fields(where, kinds)
    with_tags = (query.tags or "").strip().lower() in ("true", "1")
    repo = SearchRepository(db)
    out: dict[str, Any] = {}
    for kind in kinds:
        rows, total = (
            ([], 0)
            if kind == "snippet"
            else await repo.find(kind, actor.org_id, text, with_tags, where, page)
        )
        out[kind] = {
            "data": await _items(db, repo, kind, actor.org_id, rows),
            "meta": pagination_meta(request, page, total, len(rows)),
        }
    return out
