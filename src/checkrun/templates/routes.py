from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from checkrun.kit import responses
from checkrun.kit.auth import CurrentActor, Db
from checkrun.kit.includes import Includes, includes
from checkrun.kit.pagination import PageParams, page_params, pagination_meta
from checkrun.kit.urls import api_base
from checkrun.storage import Store
from checkrun.templates import service
from checkrun.templates.schemas import ChecklistCreate, ChecklistUpdate

router = APIRouter(tags=["templates"])
With = Annotated[Includes, Depends(includes)]
CHECKLIST = "/organizations/{org_id}/checklists/{checklist_id}"
# Tallyfy answers archive and permanent delete of a template with this body, not an envelope.
DELETED = {
    "message": "The Template was deleted, and references were also deleted from:",
    "deleted_references": [],
}


@router.post("/organizations/{org_id}/checklists", status_code=201)
async def create_checklist(
    db: Db, actor: CurrentActor, body: ChecklistCreate, with_: With
) -> JSONResponse:
    checklist = await service.create_checklist(db, actor, body)
    await db.commit()
    (read,) = await service.read_many(db, [checklist], with_)
    return responses.item(read, status=201)


@router.get("/organizations/{org_id}/checklists")
async def list_checklists(
    request: Request,
    db: Db,
    actor: CurrentActor,
    with_: With,
    page: Annotated[PageParams, Depends(page_params(10))],
    q: str | None = None,
    archived: str | None = None,
) -> JSONResponse:
    rows, total = await service.list_checklists(db, actor, page, q, archived, with_)
    return responses.listing(rows, pagination_meta(request, page, total, len(rows)))


@router.get(CHECKLIST)
async def get_checklist(
    db: Db, actor: CurrentActor, checklist_id: str, with_: With
) -> JSONResponse:
    checklist = await service.get_checklist(db, actor, checklist_id)
    (read,) = await service.read_many(db, [checklist], with_)
    return responses.item(read)


@router.put(CHECKLIST)
async def update_checklist(
    request: Request, db: Db, actor: CurrentActor, checklist_id: str, body: ChecklistUpdate,
    with_: With,
) -> JSONResponse:
    checklist = await service.update_checklist(db, actor, checklist_id, body, api_base(request))
    await db.commit()
    (read,) = await service.read_many(db, [checklist], with_)
    return responses.item(read)


@router.delete(CHECKLIST)
async def archive_checklist(db: Db, actor: CurrentActor, checklist_id: str) -> JSONResponse:
    await service.archive_checklist(db, actor, checklist_id)
    await db.commit()
    return JSONResponse(DELETED)


@router.put(CHECKLIST + "/restore")
async def restore_checklist(
    db: Db, actor: CurrentActor, checklist_id: str, with_: With
) -> JSONResponse:
    checklist = await service.restore_checklist(db, actor, checklist_id)
    await db.commit()
    (read,) = await service.read_many(db, [checklist], with_)
    return responses.item(read)


@router.delete(CHECKLIST + "/delete")
async def delete_checklist(
    db: Db, store: Store, actor: CurrentActor, checklist_id: str
) -> JSONResponse:
    await service.purge_checklist(db, store, actor, checklist_id)
    return JSONResponse(DELETED)


@router.post(CHECKLIST + "/clone", status_code=201)
async def clone_checklist(request: Request, db: Db, actor: CurrentActor, checklist_id: str,
                          with_: With) -> JSONResponse:
    body = await form_or_json(request)
    copy = await service.clone_checklist(db, actor, checklist_id, _text(body.get("title")),
                                         _text(body.get("tenant")))
    await db.commit()
    (read,) = await service.read_many(db, [copy], with_)
    return responses.item(read, status=201)


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


async def form_or_json(request: Request) -> dict[str, object]:
    """The clone call is sent form-encoded by the SDK and as JSON by others."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            body = None
        return body if isinstance(body, dict) else {}
    return dict(await request.form())


@router.get(CHECKLIST + "/form-fields")
async def form_fields(db: Db, actor: CurrentActor, checklist_id: str) -> JSONResponse:
    return responses.item(await service.form_fields(db, actor, checklist_id))
