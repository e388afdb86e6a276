from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from checkrun.kit import answers
from checkrun.kit.auth import CurrentActor, Db
from checkrun.kit.pagination import PageParams, page_params
from checkrun.kit.unit_of_work import UnitOfWorkRoute
from checkrun.search import service
from checkrun.search.service import SearchQuery

router = APIRouter(route_class=UnitOfWorkRoute, tags=["search"])
RESULTS = {
    "type": "object",
    "description": "Results keyed by type "
    "(blueprint, process, task, step, capture, snippet), each a page",
    "additionalProperties": {
        "type": "object",
        "properties": {
            "data": {"type": "array", "items": answers.OBJECT},
            "meta": answers.PAGINATION,
        },
    },
}


@router.get("/organizations/{org_id}/search")
@answers.raw(RESULTS)
async def search(
    request: Request,
    db: Db,
    actor: CurrentActor,
    page: Annotated[PageParams, Depends(page_params(20))],
    search: str | None = None,
    on: str | None = None,
    tags: str | None = None,
) -> JSONResponse:
    """`filter[...]` bracket parameters are read from the raw query (see search/filters.py)."""
    filter_items = [
        (k, v)
        for k, v in request.query_params.multi_items()
        if k == "filter" or k.startswith("filter[")
    ]
    query = SearchQuery(text=search, on=on, tags=tags, filter_items=filter_items)
    return JSONResponse(await service.search(db, actor, request, query, page))
