from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from checkrun.kit import answers, responses
from checkrun.kit.auth import CurrentActor, CurrentPrincipal, Db
from checkrun.kit.pagination import PageParams, page_params, pagination_meta
from checkrun.kit.unit_of_work import UnitOfWorkRoute
from checkrun.orgs import service
from checkrun.orgs.schemas import OrganizationRead, OrganizationUpdate

router = APIRouter(route_class=UnitOfWorkRoute, tags=["organizations"])


@router.get("/me/organizations")
@answers.page(OrganizationRead)
async def my_organizations(
    request: Request,
    db: Db,
    principal: CurrentPrincipal,
    page: Annotated[PageParams, Depends(page_params(10))],
) -> JSONResponse:
    reads, total = await service.my_organizations(db, principal, page)
    return responses.listing(reads, pagination_meta(request, page, total, len(reads)))


@router.get("/organizations/{org_id}")
@answers.item(OrganizationRead)
async def get_organization(db: Db, actor: CurrentActor) -> JSONResponse:
    return responses.item(await service.get_organization(db, actor))


@router.put("/organizations/{org_id}")
@answers.item(OrganizationRead)
async def update_organization(
    db: Db, actor: CurrentActor, body: OrganizationUpdate
) -> JSONResponse:
    read = await service.update_organization(db, actor, body)
    return responses.item(read)
