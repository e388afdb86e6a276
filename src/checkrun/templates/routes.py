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
from checkrun.templates.schemas import (
    CaptureCreate,
    ChecklistCreate,
    ChecklistUpdate,
    StepCreate,
)

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


@router.post("/organizations/{org_id}/checklists/{checklist_id}/steps", status_code=201)
async def create_step(
    db: Db, actor: CurrentActor, checklist_id: str, body: StepCreate
) -> JSONResponse:
    step = await service.create_step(db, actor, checklist_id, body)
    await db.commit()
    return responses.item(step, status=201)


@router.post(CHECKLIST + "/steps/{step_id}/captures", status_code=201)
async def create_capture(
    db: Db, actor: CurrentActor, checklist_id: str, step_id: str, body: CaptureCreate
) -> JSONResponse:
    capture = await service.create_capture(db, actor, checklist_id, step_id, body)
    await db.commit()
    return responses.item(capture, status=201)


@router.get("/organizations/{org_id}/checklists/{checklist_id}/steps")
async def list_steps(db: Db, actor: CurrentActor, checklist_id: str) -> JSONResponse:
    steps = await service.list_steps(db, actor, checklist_id)
    return responses.item(steps)
