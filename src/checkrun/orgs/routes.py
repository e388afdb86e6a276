from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from checkrun.kit import responses
from checkrun.kit.auth import CurrentActor, Db
from checkrun.orgs import service

router = APIRouter(tags=["organizations"])


@router.get("/organizations/{org_id}")
async def get_organization(db: Db, actor: CurrentActor) -> JSONResponse:
    return responses.item(await service.get_organization(db, actor))
