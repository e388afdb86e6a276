from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from checkrun.folders import service
from checkrun.folders.repository import FolderFilters
from checkrun.folders.schemas import (
    FolderCreate,
    FolderObjectCreate,
    FolderObjectRead,
    FolderRead,
    FolderUpdate,
)
from checkrun.kit import answers, responses
from checkrun.kit.auth import CurrentActor, Db
from checkrun.kit.includes import Includes, includes
from checkrun.kit.pagination import PageParams, page_params, pagination_meta
from checkrun.kit.unit_of_work import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, tags=["folders"])
With = Annotated[Includes, Depends(includes)]
FOLDER = "/organizations/{org_id}/folders/{folder_id}"


@router.get("/organizations/{org_id}/folders")
@answers.page(FolderRead)
async def list_folders(
    request: Request,
    db: Db,
    actor: CurrentActor,
    with_: With,
    page: Annotated[PageParams, Depends(page_params(10))],
    filters: Annotated[FolderFilters, Depends(service.folder_filters)],
    unpaged: Annotated[bool, Depends(service.unpaged)],
) -> JSONResponse:
    folders, total = await service.list_folders(db, actor, None if unpaged else page, filters)
    reads = await service.read_folders(db, folders, with_)
    if unpaged:
        return JSONResponse({"data": responses.dump(reads)})
    return responses.listing(reads, pagination_meta(request, page, total, len(reads)))


@router.post("/organizations/{org_id}/folders/add-object")
@answers.linked(FolderObjectRead)
async def add_object(db: Db, actor: CurrentActor, body: FolderObjectCreate) -> JSONResponse:
    relation, made = await service.add_object(db, actor, body)
    return responses.item(relation, status=201 if made else 200)


@router.delete("/organizations/{org_id}/folders-objects/{relation_id}", status_code=204)
@answers.empty()
async def remove_object(db: Db, actor: CurrentActor, relation_id: str) -> Response:
    await service.remove_object(db, actor, relation_id)
    return responses.empty(204)


@router.post("/organizations/{org_id}/folders", status_code=201)
@answers.item(FolderRead)
async def create_folder(
    db: Db, actor: CurrentActor, body: FolderCreate, with_: With
) -> JSONResponse:
    folder = await service.create_folder(db, actor, body)
    (read,) = await service.read_folders(db, [folder], with_)
    return responses.item(read, status=201)


@router.get(FOLDER)
@answers.item(FolderRead)
async def get_folder(db: Db, actor: CurrentActor, folder_id: str, with_: With) -> JSONResponse:
    folder = await service.get_folder(db, actor, folder_id)
    (read,) = await service.read_folders(db, [folder], with_)
    return responses.item(read)


@router.put(FOLDER)
@answers.item(FolderRead)
async def update_folder(
    db: Db, actor: CurrentActor, folder_id: str, body: FolderUpdate, with_: With
) -> JSONResponse:
    folder = await service.update_folder(db, actor, folder_id, body)
    (read,) = await service.read_folders(db, [folder], with_)
    return responses.item(read)


@router.delete(FOLDER, status_code=204)
@answers.empty()
async def delete_folder(db: Db, actor: CurrentActor, folder_id: str) -> Response:
    await service.delete_folder(db, actor, folder_id)
    return responses.empty(204)
