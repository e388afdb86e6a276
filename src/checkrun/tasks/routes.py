from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from checkrun.kit import responses
from checkrun.kit.auth import CurrentActor, Db
from checkrun.kit.includes import Includes, includes
from checkrun.kit.pagination import PageParams, page_params, pagination_meta
from checkrun.kit.urls import api_base
from checkrun.storage import Store
from checkrun.tasks import service
from checkrun.tasks.schemas import OneOffTaskCreate, TaskUpdate

router = APIRouter(tags=["tasks"])
With = Annotated[Includes, Depends(includes)]
TASK = "/organizations/{org_id}/tasks/{task_id}"
RUN_TASK = "/organizations/{org_id}/runs/{run_id}/tasks/{task_id}"


async def _one(db: Db, task: object, with_: Includes, status: int = 200) -> JSONResponse:
    (read,) = await service.read_tasks(db, [task], with_)  # type: ignore[list-item]
    return responses.item(read, status=status)


@router.post("/organizations/{org_id}/tasks", status_code=201)
async def create_task(
    db: Db, actor: CurrentActor, body: OneOffTaskCreate, with_: With
) -> JSONResponse:
    task = await service.create_one_off(db, actor, body)
    await db.commit()
    return await _one(db, task, with_, status=201)


@router.get("/organizations/{org_id}/tasks")
async def list_tasks(
    request: Request,
    db: Db,
    actor: CurrentActor,
    with_: With,
    page: Annotated[PageParams, Depends(page_params(10))],
    status: str | None = None,
    q: str | None = None,
    archived: str | None = None,
    is_oneoff: str | None = None,
) -> JSONResponse:
    tasks, total = await service.list_tasks(
        db, actor, page, status=status, q=q, archived=archived, is_oneoff=is_oneoff
    )
    reads = await service.read_tasks(db, tasks, with_)
    return responses.listing(reads, pagination_meta(request, page, total, len(reads)))


@router.get(TASK)
async def get_task(db: Db, actor: CurrentActor, task_id: str, with_: With) -> JSONResponse:
    return await _one(db, await service.get_task(db, actor, task_id), with_)


@router.put(TASK)
async def update_task(
    request: Request, db: Db, actor: CurrentActor, task_id: str, body: TaskUpdate, with_: With
) -> JSONResponse:
    task = await service.update_task(db, actor, task_id, body, api_base(request))
    await db.commit()
    return await _one(db, task, with_)


@router.get(RUN_TASK)
async def get_run_task(
    db: Db, actor: CurrentActor, run_id: str, task_id: str, with_: With
) -> JSONResponse:
    return await _one(db, await service.get_task(db, actor, task_id, run_id), with_)


@router.put(RUN_TASK)
async def update_run_task(
    request: Request, db: Db, actor: CurrentActor, run_id: str, task_id: str, body: TaskUpdate,
    with_: With,
) -> JSONResponse:
    task = await service.update_task(db, actor, task_id, body, api_base(request), run_id=run_id)
    await db.commit()
    return await _one(db, task, with_)


@router.delete(TASK)
async def archive_task(db: Db, actor: CurrentActor, task_id: str, with_: With) -> JSONResponse:
    task = await service.archive_one_off(db, actor, task_id)
    await db.commit()
    return await _one(db, task, with_)


@router.put(TASK + "/restore")
async def restore_task(db: Db, actor: CurrentActor, task_id: str, with_: With) -> JSONResponse:
    task = await service.restore_one_off(db, actor, task_id)
    await db.commit()
    return await _one(db, task, with_)


@router.delete(TASK + "/delete", status_code=204)
async def delete_task(db: Db, store: Store, actor: CurrentActor, task_id: str) -> Response:
    await service.purge_one_off(db, store, actor, task_id)
    return responses.empty(204)
