"""Search across templates (`blueprint`), processes, tasks, steps and form fields (`capture`),
answered keyed by type as Tallyfy does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit.auth import Actor
from checkrun.kit.clock import iso
from checkrun.kit.errors import invalid_field
from checkrun.kit.pagination import PageParams, pagination_meta
from checkrun.search.repository import SearchRepository

TYPES = ("blueprint", "process", "task", "snippet", "capture", "step")


def _item(kind: str, row: Any) -> dict[str, Any]:
    common = {"id": row.id, "search_type": kind,
              "created_at": iso(getattr(row, "created_at", None))}
    if kind == "blueprint":
        return {**common, "title": row.title, "name": row.title, "type": row.type,
                "increment_id": row.increment_id, "status": "active",
                "organization_id": row.org_id, "folders": []}
    if kind == "process":
        return {**common, "name": row.name, "title": row.name, "status": row.status,
                "increment_id": row.increment_id, "type": row.type,
                "organization_id": row.org_id, "starter_id": row.started_by, "folders": []}
    if kind == "task":
        return {**common, "title": row.title, "name": row.title, "status": row.status,
                "increment_id": row.increment_id, "run_id": row.run_id,
                "position": row.position, "deadline": iso(row.deadline),
                "is_oneoff_task": row.step_id is None, "organization_id": row.org_id,
                "folders": []}
    if kind == "step":
        return {**common, "title": row.title, "name": row.title, "position": row.position,
                "checklist_id": row.checklist_id, "folders": []}
    return {**common, "title": row.label, "name": row.label, "field_type": row.field_type,
            "step_id": row.step_id, "checklist_id": row.checklist_id, "folders": []}


def _finders(repo: SearchRepository) -> dict[str, Callable[..., Awaitable[tuple[list[Any], int]]]]:
    return {"blueprint": repo.templates, "process": repo.runs, "task": repo.tasks,
            "step": repo.steps, "capture": repo.captures}


async def search(
    db: AsyncSession, actor: Actor, request: Request, text: str | None, on: str | None,
    page: PageParams,
) -> dict[str, Any]:
    if not text or not text.strip():
        raise invalid_field("search", "The search field is required.")
    kinds = [k.strip() for k in (on or "blueprint,process,task").split(",") if k.strip()]
    unknown = [k for k in kinds if k not in TYPES]
    if unknown:
        raise invalid_field("on", f"The selected on is invalid: {', '.join(unknown)}.")
    finders = _finders(SearchRepository(db))
    out: dict[str, Any] = {}
    for kind in kinds:
        # Snippets are not kept by checkrun: always an empty result.
        rows, total = await finders[kind](actor.org_id, text, page) if kind in finders \
            else ([], 0)
        out[kind] = {"data": [_item(kind, r) for r in rows],
                     "meta": pagination_meta(request, page, total, len(rows))}
    return out
