"""Route of `tasks/batch.py`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from checkrun.kit import answers, responses
from checkrun.kit.auth import CurrentActor, Db
from checkrun.kit.includes import Includes, includes
from checkrun.kit.unit_of_work import UnitOfWorkRoute
from checkrun.kit.urls import api_base
from checkrun.tasks import batch
from checkrun.tasks import service as tasks_service
from checkrun.tasks.schemas import TaskRead, UpdateTasks

router = APIRouter(route_class=UnitOfWorkRoute, tags=["tasks"])
With = Annotated[Includes, Depends(includes)]


@router.put("/organizations/{org_id}/runs/{run_id}/update-tasks")
@answers.items(TaskRead)
async def update_run_tasks(
    request: Request, db: Db, actor: CurrentActor, run_id: str, body: UpdateTasks, with_: With
) -> JSONResponse:
    tasks = await batch.update_tasks(db, actor, run_id, body, api_base(request))
    reads = await tasks_service.read_tasks(db, tasks, with_)
    return responses.item(reads)
