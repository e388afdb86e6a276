from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from checkrun.kit import answers, responses
from checkrun.kit.auth import CurrentActor, Db
from checkrun.kit.pagination import PageParams, page_params, pagination_meta
from checkrun.kit.unit_of_work import UnitOfWorkRoute
from checkrun.webhooks import service
from checkrun.webhooks.schemas import WatcherCreate, WatcherRead

router = APIRouter(route_class=UnitOfWorkRoute, tags=["webhooks"])


@router.post("/organizations/{org_id}/users/{user_id}/add-watcher", status_code=201)
@answers.item(WatcherRead)
async def add_watcher(
    db: Db, actor: CurrentActor, user_id: str, body: WatcherCreate
) -> JSONResponse:
    watcher = await service.add_watcher(db, actor, user_id, body)
    return responses.item(WatcherRead.of(watcher), status=201)


@router.get("/organizations/{org_id}/watchers")
@answers.page(WatcherRead)
async def list_watchers(
    request: Request,
    db: Db,
    actor: CurrentActor,
    page: Annotated[PageParams, Depends(page_params(10))],
    notification: Annotated[str | None, Query(max_length=32)] = None,
) -> JSONResponse:
    watchers, total = await service.list_watchers(db, actor, page, notification)
    reads = [WatcherRead.of(w) for w in watchers]
    return responses.listing(reads, pagination_meta(request, page, total, len(reads)))


@router.delete("/organizations/{org_id}/remove-watcher/{watcher_id}", status_code=204)
@answers.empty()
async def remove_watcher(db: Db, actor: CurrentActor, watcher_id: str) -> Response:
    await service.remove_watcher(db, actor, watcher_id)
    return responses.empty(204)
