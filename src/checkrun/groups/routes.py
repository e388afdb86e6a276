from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from checkrun.groups import service
from checkrun.groups.schemas import GroupCreate, GroupRead, GroupUpdate
from checkrun.kit import answers, responses
from checkrun.kit.auth import CurrentActor, Db
from checkrun.kit.includes import Includes, includes
from checkrun.kit.pagination import PageParams, page_params, pagination_meta
from checkrun.kit.unit_of_work import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, tags=["groups"])
With = Annotated[Includes, Depends(includes)]
GROUP = "/organizations/{org_id}/groups/{group_id}"


@router.get("/organizations/{org_id}/groups")
@answers.page(GroupRead)
async def list_groups(
    request: Request,
    db: Db,
    actor: CurrentActor,
    with_: With,
    page: Annotated[PageParams, Depends(page_params(10))],
    q: str | None = None,
    sort_by: str | None = None,
    sort: Annotated[str | None, Query()] = None,
) -> JSONResponse:
    groups, total = await service.list_groups(db, actor, page, q, sort_by or sort)
    reads = await service.read_groups(db, actor, groups, with_)
    return responses.listing(reads, pagination_meta(request, page, total, len(reads)))


@router.post("/organizations/{org_id}/groups", status_code=201)
@answers.item(GroupRead)
async def create_group(db: Db, actor: CurrentActor, body: GroupCreate, with_: With) -> JSONResponse:
    group = await service.create_group(db, actor, body)
    (read,) = await service.read_groups(db, actor, [group], with_)
    return responses.item(read, status=201)


@router.get(GROUP)
@answers.item(GroupRead)
async def get_group(db: Db, actor: CurrentActor, group_id: str, with_: With) -> JSONResponse:
    group = await service.get_group(db, actor, group_id)
    (read,) = await service.read_groups(db, actor, [group], with_)
    return responses.item(read)


@router.put(GROUP, status_code=201)
@answers.item(GroupRead)
async def update_group(
    db: Db, actor: CurrentActor, group_id: str, body: GroupUpdate, with_: With
) -> JSONResponse:
    """Answers 201, as documented (the SDK does not check the status)."""
    group = await service.update_group(db, actor, group_id, body)
    (read,) = await service.read_groups(db, actor, [group], with_)
    return responses.item(read, status=201)


@router.delete(GROUP, status_code=204)
@answers.empty()
async def delete_group(db: Db, actor: CurrentActor, group_id: str) -> Response:
    await service.delete_group(db, actor, group_id)
    return responses.empty(204)
