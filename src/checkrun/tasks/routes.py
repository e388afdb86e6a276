from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from checkrun.kit import answers, responses
from checkrun.kit.auth import CurrentActor, Db
from checkrun.kit.includes import Includes, includes
from checkrun.kit.pagination import PageParams, pagination_meta
from checkrun.kit.unit_of_work import ServiceCommittedDb, UnitOfWorkRoute
from checkrun.kit.urls import api_base
from checkrun.runs.rules import changed_by_rules
from checkrun.storage import Store
from checkrun.tasks import automatic, completion, service
from checkrun.tasks.listing import with_owner_objects
from checkrun.tasks.models import Task
from checkrun.tasks.params import list_page, task_filters
from checkrun.tasks.repository import TaskBasics, TaskFilters, TaskPage
from checkrun.tasks.schemas import (
    AutomaticDeadlineRead,
    CompleteTask,
    OneOffTaskCreate,
    TaskRead,
    TaskUpdate,
)

router = APIRouter(route_class=UnitOfWorkRoute, tags=["tasks"])
With = Annotated[Includes, Depends(includes)]
Filters = Annotated[TaskFilters, Depends(task_filters)]
TASK = "/organizations/{org_id}/tasks/{task_id}"
RUN_TASK = "/organizations/{org_id}/runs/{run_id}/tasks/{task_id}"


async def _one(db: Db, task: Task, with_: Includes, status: int = 200) -> JSONResponse:
    (read,) = await service.read_tasks(db, [task], with_)
    return responses.item(read, status=status)


@router.post("/organizations/{org_id}/tasks", status_code=201)
@answers.item(TaskRead)
async def create_task(
    request: Request, db: Db, actor: CurrentActor, body: OneOffTaskCreate, with_: With
) -> JSONResponse:
    task = await service.create_one_off(db, actor, body)
    if body.separate_task_for_each_assignee:
        # The answer names the run the tasks went to, as Tallyfy's does.
        with_ = with_.with_("run")
    return await _one(db, task, with_, status=201)


@router.get("/organizations/{org_id}/tasks")
@answers.page(TaskRead)
async def list_tasks(
    request: Request,
    db: Db,
    actor: CurrentActor,
    with_: With,
    page: Annotated[PageParams, Depends(list_page(10))],
    filters: Filters,
) -> JSONResponse:
    found, total = await service.list_tasks(db, actor, page, filters)
    return await _page(request, db, found, total, page, with_)


async def _page(
    request: Request, db: Db, found: TaskPage, total: int, page: PageParams, with_: Includes
) -> JSONResponse:
    tasks = found.tasks
    reads = await service.read_tasks(db, tasks, with_, basics=found.basics)
    reads = await with_owner_objects(db, tasks, reads, found.names)
    return responses.listing(reads, pagination_meta(request, page, total, len(reads)))


@router.get("/organizations/{org_id}/me/tasks")
@answers.page(TaskRead)
async def list_my_tasks(
    request: Request,
    db: Db,
    actor: CurrentActor,
    with_: With,
    page: Annotated[PageParams, Depends(list_page(10))],
    filters: Filters,
) -> JSONResponse:
    # Without a status the real service lists only what is still to do.
    found, total = await service.list_member_tasks(
        db, actor, page, filters, actor.user_id, default_status="active"
    )
    return await _page(request, db, found, total, page, with_)


@router.get("/organizations/{org_id}/users/{user_id}/tasks")
@answers.page(TaskRead)
async def list_member_tasks(
    request: Request,
    db: Db,
    actor: CurrentActor,
    user_id: str,
    with_: With,
    page: Annotated[PageParams, Depends(list_page(10))],
    filters: Filters,
) -> JSONResponse:
    found, total = await service.list_member_tasks(
        db, actor, page, filters, service.member_id(user_id)
    )
    return await _page(request, db, found, total, page, with_)


@router.post(TASK + "/clone", status_code=201)
@answers.item(TaskRead)
async def clone_task(db: Db, actor: CurrentActor, task_id: str, with_: With) -> JSONResponse:
    task = await service.clone_task(db, actor, task_id)
    return await _one(db, task, with_, status=201)


@router.get(TASK)
@answers.item(TaskRead)
async def get_task(db: Db, actor: CurrentActor, task_id: str, with_: With) -> JSONResponse:
    return await _one(db, await service.get_task(db, actor, task_id), with_)


@router.put(TASK)
@answers.item(TaskRead)
async def update_task(
    request: Request, db: Db, actor: CurrentActor, task_id: str, body: TaskUpdate, with_: With
) -> JSONResponse:
    task = await service.update_task(db, actor, task_id, body, api_base(request))
    return await _one(db, task, with_)


@router.get(RUN_TASK)
@answers.item(TaskRead)
async def get_run_task(
    db: Db, actor: CurrentActor, run_id: str, task_id: str, with_: With
) -> JSONResponse:
    return await _one(db, await service.get_task(db, actor, task_id, run_id), with_)


@router.put(RUN_TASK)
@answers.item(TaskRead)
async def update_run_task(
    request: Request,
    db: Db,
    actor: CurrentActor,
    run_id: str,
    task_id: str,
    body: TaskUpdate,
    with_: With,
) -> JSONResponse:
    task = await service.update_task(db, actor, task_id, body, api_base(request), run_id=run_id)
    return await _one(db, task, with_)


@router.delete(TASK)
@answers.item(TaskRead)
async def archive_task(db: Db, actor: CurrentActor, task_id: str, with_: With) -> JSONResponse:
    task = await service.archive_one_off(db, actor, task_id)
    return await _one(db, task, with_)


@router.put(TASK + "/restore")
@answers.item(TaskRead)
async def restore_task(db: Db, actor: CurrentActor, task_id: str, with_: With) -> JSONResponse:
    task = await service.restore_one_off(db, actor, task_id)
    return await _one(db, task, with_)


@router.delete(TASK + "/delete", status_code=204)
@answers.empty()
async def delete_task(
    db: ServiceCommittedDb, store: Store, actor: CurrentActor, task_id: str
) -> Response:
    await service.purge_one_off(db, store, actor, task_id)
    return responses.empty(204)


async def _completion(
    db: Db, task: Task, with_: Includes, basics: TaskBasics | None = None
) -> JSONResponse:
    (read,) = await service.read_tasks(db, [task], with_, basics=basics)
    if task.run_id is not None:
        # What the run's rules changed because of this completion or reopen, by task id.
        read.tasks_changed_by_rules = changed_by_rules(db)
    return responses.item(read)


@router.post("/organizations/{org_id}/runs/{run_id}/completed-tasks")
@answers.item(TaskRead)
async def complete_run_task(
    db: Db, actor: CurrentActor, run_id: str, body: CompleteTask, with_: With
) -> JSONResponse:
    done = await completion.complete(db, actor, body, run_id)
    return await _completion(db, done.task, with_, done.basics)


@router.delete("/organizations/{org_id}/runs/{run_id}/completed-tasks/{task_id}")
@answers.item(TaskRead)
async def reopen_run_task(
    db: Db, actor: CurrentActor, run_id: str, task_id: str, with_: With
) -> JSONResponse:
    return await _completion(db, await completion.reopen(db, actor, task_id, run_id), with_)


@router.post("/organizations/{org_id}/completed-tasks")
@answers.item(TaskRead)
async def complete_task(
    db: Db, actor: CurrentActor, body: CompleteTask, with_: With
) -> JSONResponse:
    done = await completion.complete(db, actor, body)
    return await _completion(db, done.task, with_, done.basics)


@router.delete("/organizations/{org_id}/completed-tasks/{task_id}")
@answers.item(TaskRead)
async def reopen_task(db: Db, actor: CurrentActor, task_id: str, with_: With) -> JSONResponse:
    return await _completion(db, await completion.reopen(db, actor, task_id), with_)


@router.get(RUN_TASK + "/automatic-deadline")
@answers.item(AutomaticDeadlineRead)
async def get_automatic_deadline(
    db: Db, actor: CurrentActor, run_id: str, task_id: str
) -> JSONResponse:
    return responses.item(await automatic.automatic_deadline(db, actor, run_id, task_id))


@router.post(RUN_TASK + "/reset-deadline")
@answers.item(TaskRead)
async def reset_deadline(
    db: Db, actor: CurrentActor, run_id: str, task_id: str, with_: With
) -> JSONResponse:
    task = await automatic.reset_deadline(db, actor, run_id, task_id)
    return await _one(db, task, with_)
