from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from checkrun.kit import answers, responses
from checkrun.kit.auth import CurrentActor, Db
from checkrun.kit.pagination import PageParams, page_params, pagination_meta
from checkrun.kit.unit_of_work import UnitOfWorkRoute
from checkrun.snippets import service
from checkrun.snippets.schemas import SnippetRead, SnippetWrite

router = APIRouter(route_class=UnitOfWorkRoute, tags=["snippets"])
SNIPPETS = "/organizations/{org_id}/text-templates"
SNIPPET = SNIPPETS + "/{snippet_id}"


@router.get(SNIPPETS)
@answers.page(SnippetRead)
async def list_snippets(
    request: Request,
    db: Db,
    actor: CurrentActor,
    page: Annotated[PageParams, Depends(page_params(10))],
    q: str | None = None,
) -> JSONResponse:
    found, total = await service.list_snippets(db, actor, page, q)
    reads = [SnippetRead.of(s) for s in found]
    return responses.listing(reads, pagination_meta(request, page, total, len(reads)))


@router.post(SNIPPETS, status_code=201)
@answers.item(SnippetRead)
async def create_snippet(db: Db, actor: CurrentActor, body: SnippetWrite) -> JSONResponse:
    snippet = await service.create_snippet(db, actor, body)
    return responses.item(SnippetRead.of(snippet), status=201)


@router.get(SNIPPET)
@answers.item(SnippetRead)
async def get_snippet(db: Db, actor: CurrentActor, snippet_id: str) -> JSONResponse:
    return responses.item(SnippetRead.of(await service.get_snippet(db, actor, snippet_id)))


@router.put(SNIPPET)
@answers.item(SnippetRead)
async def update_snippet(
    db: Db, actor: CurrentActor, snippet_id: str, body: SnippetWrite
) -> JSONResponse:
    snippet = await service.update_snippet(db, actor, snippet_id, body)
    return responses.item(SnippetRead.of(snippet))


@router.delete(SNIPPET, status_code=204)
@answers.empty()
async def delete_snippet(db: Db, actor: CurrentActor, snippet_id: str) -> Response:
    await service.delete_snippet(db, actor, snippet_id)
    return responses.empty(204)
