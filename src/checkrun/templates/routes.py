from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from checkrun.kit import answers, responses
from checkrun.kit.auth import CurrentActor, Db
from checkrun.kit.errors import bad_request, invalid
from checkrun.kit.includes import Includes, includes
from checkrun.kit.pagination import PageParams, page_params, pagination_meta
from checkrun.kit.query import from_query
from checkrun.kit.unit_of_work import ServiceCommittedDb, UnitOfWorkRoute
from checkrun.kit.urls import api_base
from checkrun.kit.validation import laravel_errors
from checkrun.storage import Store
from checkrun.templates import service, transfer
from checkrun.templates.repository import ChecklistFilters
from checkrun.templates.schemas import (
    CaptureRead,
    ChecklistCreate,
    ChecklistRead,
    ChecklistUpdate,
    CloneChecklist,
)

router = APIRouter(route_class=UnitOfWorkRoute, tags=["templates"])
With = Annotated[Includes, Depends(includes)]
Body = TypeVar("Body", bound=BaseModel)
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
CHECKLIST = "/organizations/{org_id}/checklists/{checklist_id}"
DELETED_REFERENCES = {
    "type": "object",
    "required": ["message"],
    "properties": {
        "message": {"type": "string"},
        "deleted_references": {"type": "array", "items": answers.OBJECT},
    },
}
FORM_FIELDS = {
    "type": "object",
    "properties": {
        "data": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "title": {"type": "string"},
                "form_fields": {"type": "array", "items": answers.ref(CaptureRead)},
                "ko_form_fields": {"type": "array", "items": answers.ref(CaptureRead)},
            },
        }
    },
}
# Tallyfy answers archive and permanent delete of a template with this body, not an envelope.
DELETED = {
    "message": "The Template was deleted, and references were also deleted from:",
    "deleted_references": [],
}


@router.post("/organizations/{org_id}/checklists", status_code=201)
@answers.item(ChecklistRead)
async def create_checklist(
    db: Db, actor: CurrentActor, body: ChecklistCreate, with_: With
) -> JSONResponse:
    checklist = await transfer.create_checklist(db, actor, body)
    (read,) = await service.read_many(db, [checklist], with_)
    return responses.item(read, status=201)


@router.get("/organizations/{org_id}/checklists")
@answers.page(ChecklistRead)
async def list_checklists(
    request: Request,
    db: Db,
    actor: CurrentActor,
    with_: With,
    page: Annotated[PageParams, Depends(page_params(10))],
    filters: Annotated[ChecklistFilters, Depends(from_query(service.checklist_filters))],
) -> JSONResponse:
    rows, total = await service.list_checklists(db, actor, page, filters, with_)
    return responses.listing(rows, pagination_meta(request, page, total, len(rows)))


@router.get(CHECKLIST)
@answers.item(ChecklistRead)
async def get_checklist(
    db: Db, actor: CurrentActor, checklist_id: str, with_: With, archived: str | None = None
) -> JSONResponse:
    """An archived template is 404 unless `archived=true` (or `only`) asks for it."""
    checklist = await service.get_checklist(
        db, actor, checklist_id, archived=service.wants_archived(archived)
    )
    (read,) = await service.read_many(db, [checklist], with_)
    return responses.item(read)


@router.put(CHECKLIST)
@answers.item(ChecklistRead)
async def update_checklist(
    request: Request,
    db: Db,
    actor: CurrentActor,
    checklist_id: str,
    body: ChecklistUpdate,
    with_: With,
) -> JSONResponse:
    checklist = await service.update_checklist(db, actor, checklist_id, body, api_base(request))
    (read,) = await service.read_many(db, [checklist], with_)
    return responses.item(read)


@router.delete(CHECKLIST)
@answers.raw(DELETED_REFERENCES)
async def archive_checklist(db: Db, actor: CurrentActor, checklist_id: str) -> JSONResponse:
    await service.archive_checklist(db, actor, checklist_id)
    return JSONResponse(DELETED)


@router.put(CHECKLIST + "/restore")
@answers.item(ChecklistRead)
async def restore_checklist(
    db: Db, actor: CurrentActor, checklist_id: str, with_: With
) -> JSONResponse:
    checklist = await service.restore_checklist(db, actor, checklist_id)
    (read,) = await service.read_many(db, [checklist], with_)
    return responses.item(read)


@router.delete(CHECKLIST + "/delete")
@answers.raw(DELETED_REFERENCES)
async def delete_checklist(
    db: ServiceCommittedDb, store: Store, actor: CurrentActor, checklist_id: str
) -> JSONResponse:
    await service.purge_checklist(db, store, actor, checklist_id)
    return JSONResponse(DELETED)


@router.post(CHECKLIST + "/clone", status_code=201)
@answers.item(ChecklistRead)
async def clone_checklist(
    request: Request, db: Db, actor: CurrentActor, checklist_id: str, with_: With
) -> JSONResponse:
    body = await form_or_json(request, CloneChecklist)
    copy = await service.clone_checklist(db, actor, checklist_id, body)
    (read,) = await service.read_many(db, [copy], with_)
    return responses.item(read, status=201)


async def form_or_json(request: Request, schema: type[Body]) -> Body:
    """The clone call is sent form-encoded by the SDK and as JSON by others; no body is {}."""
    raw: object = {}
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            raw = await request.json() if await request.body() else {}
        except ValueError:
            raise bad_request("The request body is not valid JSON.") from None
    elif request.headers.get("content-type", "").startswith(FORMS):
        raw = dict(await request.form())
    try:
        return schema.model_validate(raw)
    except ValidationError as exc:
        raise invalid(laravel_errors(exc.errors())) from None


@router.put(CHECKLIST + "/publish")
@answers.item(ChecklistRead)
async def publish_checklist(
    db: Db, actor: CurrentActor, checklist_id: str, with_: With
) -> JSONResponse:
    checklist = await service.publish_checklist(db, actor, checklist_id)
    (read,) = await service.read_many(db, [checklist], with_)
    return responses.item(read)


@router.get(CHECKLIST + "/form-fields")
@answers.raw(FORM_FIELDS, CaptureRead)
async def form_fields(db: Db, actor: CurrentActor, checklist_id: str) -> JSONResponse:
    return responses.item(await service.form_fields(db, actor, checklist_id))
