from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from checkrun.kit import answers, responses
from checkrun.kit.auth import CurrentActor, CurrentPrincipal, Db
from checkrun.kit.includes import Includes, includes
from checkrun.kit.pagination import PageParams, pagination_meta, paging
from checkrun.kit.query import from_query
from checkrun.kit.unit_of_work import UnitOfWorkRoute
from checkrun.members import service
from checkrun.members.models import Membership, User
from checkrun.members.repository import MembersRepository
from checkrun.members.schemas import (
    InviteUser,
    ProfileUpdate,
    ProvisionUser,
    RoleUpdate,
    TokenRead,
    UserBrief,
    UserRead,
)
from checkrun.oauth.deps import ApplicationActor

router = APIRouter(route_class=UnitOfWorkRoute, tags=["members"])
With = Annotated[Includes, Depends(includes)]
USER = "/organizations/{org_id}/users/{user_id}"
# Tallyfy lists every member on one page unless asked otherwise.
MEMBERS_PER_PAGE = 9999


@from_query
def members_page(page: str | None = Query(None), per_page: str | None = Query(None)) -> PageParams:
    paged = paging(page, per_page, MEMBERS_PER_PAGE)
    if per_page is None or not per_page.strip().isdigit():
        return PageParams(page=paged.page, per_page=MEMBERS_PER_PAGE)
    return PageParams(page=paged.page, per_page=max(1, min(MEMBERS_PER_PAGE, int(per_page))))


def _member(pair: tuple[User, Membership]) -> JSONResponse:
    return responses.item(UserRead.of(*pair))


@router.get("/me")
@answers.item(UserRead)
async def get_me(db: Db, principal: CurrentPrincipal) -> JSONResponse:
    membership = await MembersRepository(db).membership(principal.token_org_id, principal.user_id)
    return responses.item(UserRead.of(principal.user, membership))


@router.get("/organizations/{org_id}/me")
@answers.item(UserRead)
async def get_me_in_org(db: Db, actor: CurrentActor) -> JSONResponse:
    return _member(await service.me_in_org(db, actor))


@router.put("/organizations/{org_id}/me")
@answers.item(UserRead)
async def update_me_in_org(db: Db, actor: CurrentActor, body: ProfileUpdate) -> JSONResponse:
    pair = await service.update_own_profile(db, actor, body)
    return _member(pair)


@router.get("/organizations/{org_id}/users")
@answers.page(UserRead)
async def list_members(
    request: Request,
    db: Db,
    actor: CurrentActor,
    with_: With,
    page: Annotated[PageParams, Depends(members_page)],
    q: str | None = None,
    sort: str | None = None,
    sort_by: str | None = None,
) -> JSONResponse:
    reads, total = await service.list_members(db, actor, page, q, sort or sort_by, with_)
    return responses.listing(reads, pagination_meta(request, page, total, len(reads)))


@router.get("/organizations/{org_id}/users-list")
@answers.items(UserBrief)
async def list_members_brief(db: Db, actor: CurrentActor) -> JSONResponse:
    # No `meta` at all: the SDK reads `meta.count` from a dict and crashes on `meta: null`.
    return JSONResponse({"data": responses.dump(await service.list_brief(db, actor))})


@router.post("/organizations/{org_id}/users/invite")
@answers.item(UserRead)
async def invite_member(db: Db, actor: CurrentActor, body: InviteUser) -> JSONResponse:
    pair = await service.invite(db, actor, body)
    return _member(pair)


@router.get(USER)
@answers.item(UserRead)
async def get_member(db: Db, actor: CurrentActor, user_id: str, with_: With) -> JSONResponse:
    return responses.item(await service.get_member(db, actor, user_id, with_))


@router.put(USER)
@answers.item(UserRead)
async def update_member(
    db: Db, actor: CurrentActor, user_id: str, body: ProfileUpdate
) -> JSONResponse:
    pair = await service.update_profile(db, actor, user_id, body)
    return _member(pair)


@router.put(USER + "/role")
@answers.item(UserRead)
async def change_role(db: Db, actor: CurrentActor, user_id: str, body: RoleUpdate) -> JSONResponse:
    pair = await service.change_role(db, actor, user_id, body.role)
    return _member(pair)


@router.delete(USER)
@answers.item(UserRead)
async def remove_member(
    db: Db,
    actor: CurrentActor,
    user_id: str,
    with_reassignment: str | None = None,
    to: str | None = None,
) -> JSONResponse:
    reassign = (with_reassignment or "").strip().lower() in ("true", "1")
    pair = await service.remove(db, actor, user_id, reassign, to)
    return _member(pair)


@router.delete(USER + "/disable")
@answers.item(UserRead)
async def disable_member(db: Db, actor: CurrentActor, user_id: str) -> JSONResponse:
    pair = await service.disable(db, actor, user_id)
    return _member(pair)


@router.put(USER + "/enable")
@answers.item(UserRead)
async def enable_member(db: Db, actor: CurrentActor, user_id: str) -> JSONResponse:
    pair = await service.enable(db, actor, user_id)
    return _member(pair)


@router.put(USER + "/approve")
@answers.item(UserRead)
async def approve_member(db: Db, actor: CurrentActor, user_id: str) -> JSONResponse:
    pair = await service.approve(db, actor, user_id)
    return _member(pair)


@router.delete(USER + "/delete", status_code=204)
@answers.empty()
async def delete_member(db: Db, actor: CurrentActor, user_id: str) -> Response:
    await service.purge(db, actor, user_id)
    return responses.empty(204)


@router.post("/applications/{org_id}/users", status_code=201)
@answers.item(UserRead)
async def provision_user(db: Db, actor: ApplicationActor, body: ProvisionUser) -> JSONResponse:
    user, membership = await service.provision_user(db, actor, body)
    return responses.item(UserRead.of(user, membership), status=201)


@router.post("/applications/{org_id}/users/{email}/token")
@answers.raw(answers.ref(TokenRead), TokenRead)
async def provision_token(db: Db, actor: ApplicationActor, email: str) -> JSONResponse:
    token = await service.provisioned_token(db, actor, email)
    body = TokenRead(access_token=token, expires_in=service.PROVISIONED_TOKEN_SECONDS)
    return JSONResponse(body.model_dump())
