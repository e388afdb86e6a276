from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from checkrun.kit import answers, responses
from checkrun.kit.auth import CurrentActor, Db
from checkrun.kit.includes import Includes, includes
from checkrun.kit.pagination import PageParams, pagination_meta
from checkrun.kit.text import slugify
from checkrun.kit.unit_of_work import ServiceCommittedDb, UnitOfWorkRoute
from checkrun.kit.urls import api_base
from checkrun.runs import export, service
from checkrun.runs.models import Run
from checkrun.runs.params import run_filters
from checkrun.runs.repository import RunFilters, RunStats
from checkrun.runs.rules import changed_by_rules, rules_evaluated
from checkrun.runs.schemas import RunLaunch, RunRead, RunUpdate
from checkrun.storage import Store
from checkrun.tasks import service as tasks_service
from checkrun.tasks.listing import with_owner_objects
from checkrun.tasks.params import list_page, task_filters
from checkrun.tasks.repository import TaskFilters
from checkrun.tasks.schemas import TaskRead

router = APIRouter(route_class=UnitOfWorkRoute, tags=["runs"])
With = Annotated[Includes, Depends(includes)]
RUN = "/organizations/{org_id}/runs/{run_id}"


async def _one(
    request: Request,
    db: Db,
    run: Run,
    with_: Includes,
    status: int = 200,
    stats: RunStats | None = None,
) -> JSONResponse:
    known = {run.id: stats} if stats is not None else None
    (read,) = await service.read_runs(db, [run], with_, api_base(request), stats=known)
    return responses.item(read, status=status)


@router.post("/organizations/{org_id}/runs", status_code=201)
@answers.item(RunRead)
async def launch_run(
    request: Request, db: Db, actor: CurrentActor, body: RunLaunch, with_: With
) -> JSONResponse:
    run, stats = await service.launch_counted(db, actor, body, api_base(request))
    return await _one(request, db, run, with_, status=201, stats=stats)


@router.get("/organizations/{org_id}/runs")
@answers.page(RunRead)
async def list_runs(
    request: Request,
    db: Db,
    actor: CurrentActor,
    with_: With,
    page: Annotated[PageParams, Depends(list_page(10))],
    filters: Annotated[RunFilters, Depends(run_filters)],
) -> JSONResponse:
    found, total = await service.list_runs(db, actor, page, filters)
    reads = await service.read_runs(db, found.runs, with_, api_base(request), found.stats)
    return responses.listing(reads, pagination_meta(request, page, total, len(reads)))


@router.get(RUN)
@answers.item(RunRead)
async def get_run(
    request: Request, db: Db, actor: CurrentActor, run_id: str, with_: With
) -> JSONResponse:
    return await _one(request, db, await service.get_run(db, actor, run_id), with_)


@router.put(RUN)
@answers.item(RunRead)
async def update_run(
    request: Request, db: Db, actor: CurrentActor, run_id: str, body: RunUpdate, with_: With
) -> JSONResponse:
    run = await service.update_run(db, actor, run_id, body, api_base(request))
    return await _one(request, db, run, with_)


@router.post(RUN + "/complete-prerun")
@answers.item(RunRead)
async def complete_prerun(
    request: Request, db: Db, actor: CurrentActor, run_id: str, with_: With
) -> JSONResponse:
    run = await service.set_prerun_complete(db, actor, run_id, done=True)
    return await _prerun_answer(request, db, run, with_)


@router.delete(RUN + "/complete-prerun")
@answers.item(RunRead)
async def reopen_prerun(
    request: Request, db: Db, actor: CurrentActor, run_id: str, with_: With
) -> JSONResponse:
    run = await service.set_prerun_complete(db, actor, run_id, done=False)
    return await _prerun_answer(request, db, run, with_)


async def _prerun_answer(request: Request, db: Db, run: Run, with_: Includes) -> JSONResponse:
    (read,) = await service.read_runs(db, [run], with_, api_base(request))
    read.rules_evaluated = rules_evaluated(db)
    read.tasks_changed_by_rules = changed_by_rules(db)
    return responses.item(read)


@router.get(RUN + "/tasks")
@answers.page(TaskRead)
async def list_run_tasks(
    request: Request,
    db: Db,
    actor: CurrentActor,
    run_id: str,
    with_: With,
    page: Annotated[PageParams, Depends(list_page(10))],
    filters: Annotated[TaskFilters, Depends(task_filters)],
) -> JSONResponse:
    tasks, total = await service.list_tasks_of_run(db, actor, run_id, page, filters)
    reads = await with_owner_objects(db, tasks, await tasks_service.read_tasks(db, tasks, with_))
    return responses.listing(reads, pagination_meta(request, page, total, len(reads)))


@router.delete(RUN)
@answers.item(RunRead)
async def archive_run(
    request: Request, db: Db, actor: CurrentActor, run_id: str, with_: With
) -> JSONResponse:
    run = await service.archive(db, actor, run_id)
    return await _one(request, db, run, with_)


@router.put(RUN + "/activate")
@answers.item(RunRead)
async def activate_run(
    request: Request, db: Db, actor: CurrentActor, run_id: str, with_: With
) -> JSONResponse:
    run = await service.activate(db, actor, run_id)
    return await _one(request, db, run, with_)


@router.delete(RUN + "/delete")
@answers.empty()
async def delete_run(
    db: ServiceCommittedDb, store: Store, actor: CurrentActor, run_id: str
) -> Response:
    await service.purge(db, store, actor, run_id)
    return responses.empty(200)


@router.post(RUN + "/export")
@answers.item(RunRead)
async def export_run(request: Request, db: Db, actor: CurrentActor, run_id: str) -> JSONResponse:
    """The run with its template, tasks (with their comments), form fields, tags, folders,
    threads and files: the Go CLI's `process export`."""
    read = await export.export_json(db, actor, run_id, api_base(request))
    return responses.item(read)


@router.get(RUN + "/export.csv")
@answers.binary()
async def export_run_csv(db: Db, actor: CurrentActor, run_id: str) -> Response:
    """Tallyfy's process CSV (45 columns)."""
    run, text = await export.export_csv(db, actor, run_id)
    name = slugify(run.name, 80) or run.id
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
