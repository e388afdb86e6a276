from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from checkrun.activity import service
from checkrun.activity.params import feed_filters
from checkrun.activity.repository import FeedFilters
from checkrun.activity.schemas import ActivityEntry
from checkrun.kit import answers, responses
from checkrun.kit.auth import CurrentActor, Db
from checkrun.kit.pagination import PageParams, page_params, pagination_meta
from checkrun.kit.unit_of_work import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, tags=["activity"])


@router.get("/organizations/{org_id}/activity-feeds")
@answers.page(ActivityEntry)
async def list_activity(
    request: Request,
    db: Db,
    actor: CurrentActor,
    page: Annotated[PageParams, Depends(page_params(20))],
    filters: Annotated[FeedFilters, Depends(feed_filters)],
) -> JSONResponse:
    entries, total = await service.list_feed(db, actor, page, filters)
    return responses.listing(entries, pagination_meta(request, page, total, len(entries)))
