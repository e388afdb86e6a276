from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from checkrun.kit.auth import CurrentActor, Db
from checkrun.kit.pagination import PageParams, page_params
from checkrun.search import service

router = APIRouter(tags=["search"])


@router.get("/organizations/{org_id}/search")
async def search(
    request: Request, db: Db, actor: CurrentActor,
    page: Annotated[PageParams, Depends(page_params(20))],
    search: str | None = None, on: str | None = None,
) -> JSONResponse:
    return JSONResponse(await service.search(db, actor, request, search, on, page))
