from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from checkrun.kit import responses
from checkrun.kit.auth import CurrentActor, CurrentPrincipal, Db
from checkrun.members import service
from checkrun.members.repository import MembersRepository
from checkrun.members.schemas import ProvisionUser, TokenRead, UserRead

router = APIRouter(tags=["members"])


@router.get("/me")
async def get_me(db: Db, principal: CurrentPrincipal) -> JSONResponse:
    membership = await MembersRepository(db).membership(principal.token_org_id, principal.user.id)
    return responses.item(UserRead.of(principal.user, membership))


@router.get("/organizations/{org_id}/me")
async def get_me_in_org(db: Db, actor: CurrentActor) -> JSONResponse:
    user, membership = await service.me_in_org(db, actor)
    return responses.item(UserRead.of(user, membership))


@router.post("/applications/{org_id}/users", status_code=201)
async def provision_user(db: Db, actor: CurrentActor, body: ProvisionUser) -> JSONResponse:
    user, membership = await service.provision_user(db, actor, body)
    await db.commit()
    return responses.item(UserRead.of(user, membership), status=201)


@router.post("/applications/{org_id}/users/{email}/token")
async def provision_token(db: Db, actor: CurrentActor, email: str) -> JSONResponse:
    token = await service.provisioned_token(db, actor, email)
    await db.commit()
    body = TokenRead(access_token=token, expires_in=service.PROVISIONED_TOKEN_SECONDS)
    return JSONResponse(body.model_dump())
