from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from checkrun.kit import answers, responses
from checkrun.kit.auth import CurrentActor, Db
from checkrun.kit.includes import Includes, includes
from checkrun.kit.pagination import PageParams, page_params, pagination_meta
from checkrun.kit.unit_of_work import UnitOfWorkRoute
from checkrun.tags import service
from checkrun.tags.repository import TagFilters
from checkrun.tags.schemas import AssociationRead, TagAttach, TagCreate, TagRead, TagUpdate

router = APIRouter(route_class=UnitOfWorkRoute, tags=["tags"])
With = Annotated[Includes, Depends(includes)]
TAG = "/organizations/{org_id}/tags/{tag_id}"
# Links live under /checklists/tags for templates and runs alike, as in Tallyfy.
LINKS = "/organizations/{org_id}/checklists/tags"


@router.get("/organizations/{org_id}/tags")
@answers.page(TagRead)
async def list_tags(
    request: Request,
    db: Db,
    actor: CurrentActor,
    with_: With,
    page: Annotated[PageParams, Depends(page_params(10))],
    filters: Annotated[TagFilters, Depends(service.tag_filters)],
) -> JSONResponse:
    tags, total = await service.list_tags(db, actor, page, filters)
    reads = await service.read_tags(db, tags, with_)
    return responses.listing(reads, pagination_meta(request, page, total, len(reads)))


@router.post("/organizations/{org_id}/tags", status_code=201)
@answers.item(TagRead)
async def create_tag(db: Db, actor: CurrentActor, body: TagCreate, with_: With) -> JSONResponse:
    tag = await service.create_tag(db, actor, body)
    (read,) = await service.read_tags(db, [tag], with_)
    return responses.item(read, status=201)


@router.get(TAG)
@answers.item(TagRead)
async def get_tag(db: Db, actor: CurrentActor, tag_id: str, with_: With) -> JSONResponse:
    (read,) = await service.read_tags(db, [await service.get_tag(db, actor, tag_id)], with_)
    return responses.item(read)


@router.put(TAG)
@answers.item(TagRead)
async def update_tag(
    db: Db, actor: CurrentActor, tag_id: str, body: TagUpdate, with_: With
) -> JSONResponse:
    tag = await service.update_tag(db, actor, tag_id, body)
    (read,) = await service.read_tags(db, [tag], with_)
    return responses.item(read)


@router.delete(TAG, status_code=204)
@answers.empty()
async def delete_tag(db: Db, actor: CurrentActor, tag_id: str) -> Response:
    await service.delete_tag(db, actor, tag_id)
    return responses.empty(204)


@router.post(LINKS)
@answers.linked(AssociationRead, required=False)
async def attach_tag(db: Db, actor: CurrentActor, body: TagAttach) -> JSONResponse:
    link, made = await service.attach(db, actor, body)
    return responses.item(link, status=201 if made else 200)


@router.delete(LINKS + "/{association_id}", status_code=204)
@answers.empty()
async def detach_tag(db: Db, actor: CurrentActor, association_id: str) -> Response:
    await service.detach(db, actor, association_id)
    return responses.empty(204)
