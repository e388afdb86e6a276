"""`PUT /runs/{id}/update-tasks`: several tasks of one process changed in one request, each as
the process task PUT changes it, all or none (one transaction: the first refusal undoes the
changes already made)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit.auth import Actor
from checkrun.kit.errors import AppError, invalid
from checkrun.runs import service as runs_service
from checkrun.tasks import service as tasks_service
from checkrun.tasks.models import Task
from checkrun.tasks.schemas import UpdateTasks


def _for_task(exc: AppError, task_id: str) -> AppError:
    """A refusal of one task, keyed by it: `tasks.{task_id}.{field}` (a task of another
    process, or none, is `tasks.{task_id}`)."""
    if exc.status == 404:
        return invalid({f"tasks.{task_id}": ["The selected task is not a task of this process."]})
    if exc.status == 422 and exc.errors:
        return invalid({f"tasks.{task_id}.{key}": errs for key, errs in exc.errors.items()})
    return exc


async def update_tasks(
    db: AsyncSession, actor: Actor, run_id: str, body: UpdateTasks, api_base: str
) -> list[Task]:
    run = await runs_service.get_run(db, actor, run_id)
    done: dict[str, Task] = {}
    for task_id, change in body.changes():
        try:
            task = await tasks_service.update_task(
                db, actor, task_id, change, api_base, run_id=run.id
            )
        except AppError as exc:
            raise _for_task(exc, task_id) from exc
        done[task.id] = task
    return list(done.values())
