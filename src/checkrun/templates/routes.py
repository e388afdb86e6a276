from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from checkrun.kit import responses
from checkrun.kit.auth import CurrentActor, Db
from checkrun.kit.includes import Includes, includes
from checkrun.kit.pagination import PageParams, page_params, pagination_meta
from checkrun.templates import service
from checkrun.templates.schemas import ChecklistCreate, StepCreate

router = APIRouter(tags=["templates"])
With = Annotated[Includes, Depends(includes)]


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


@router.get("/organizations/{org_id}/checklists/{checklist_id}")
async def get_checklist(
    db: Db, actor: CurrentActor, checklist_id: str, with_: With
) -> JSONResponse:
    checklist = await service.get_checklist(db, actor, checklist_id)
    (read,) = await service.read_many(db, [checklist], with_)
    return responses.item(read)


@router.post("/organizations/{org_id}/checklists/{checklist_id}/steps", status_code=201)
async def create_step(
    db: Db, actor: CurrentActor, checklist_id: str, body: StepCreate
) -> JSONResponse:
    step = await service.create_step(db, actor, checklist_id, body)
    await db.commit()
    return responses.item(step, status=201)


@router.get("/organizations/{org_id}/checklists/{checklist_id}/steps")
async def list_steps(db: Db, actor: CurrentActor, checklist_id: str) -> JSONResponse:
    steps = await service.list_steps(db, actor, checklist_id)
    return responses.item(steps)
