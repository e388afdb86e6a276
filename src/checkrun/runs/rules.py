"""What a run's form values do to its tasks (the template's automation rules), and the run
status that follows from its tasks."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit.clock import now
from checkrun.runs.models import Run
from checkrun.runs.repository import RunsRepository
from checkrun.tasks.models import Task
from checkrun.tasks.repository import TasksRepository
from checkrun.templates.automations import Effects, evaluate
from checkrun.templates.repository import TemplatesRepository

UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "week": 604800, "month": 2592000}


def offset(rule: dict[str, object]) -> timedelta:
    unit = str(rule.get("unit", "days")).rstrip("s")
    return timedelta(seconds=UNIT_SECONDS.get(unit, 86400) * int(str(rule.get("value", 0))))


async def apply_rules(db: AsyncSession, run: Run) -> None:
    """Evaluates the template's rules against the kick-off and task values of this run; tasks
    already completed keep what they had."""
    found = await TemplatesRepository(db).by_ids([run.checklist_id])
    if not found or not found[0].automated_actions:
        return
    checklist = found[0]
    repo = TasksRepository(db)
    tasks = (await repo.tasks_of_runs([run.id])).get(run.id, [])
    values = dict(run.prerun or {})
    for task_values in (await repo.values_of([t.id for t in tasks])).values():
        values.update(task_values)
    effects = evaluate(checklist.automated_actions, values)
    for task in tasks:
        if task.step_id is not None and task.status != "completed":
            _apply(task, effects, run)
    await db.flush()
    await sync_run_status(db, run.id)


def _apply(task: Task, effects: Effects, run: Run) -> None:
    step = task.step_id or ""
    if step in effects.hidden_steps:
        task.status, task.hidden_by_rule = "auto-skipped", True
    elif task.hidden_by_rule:
        task.status, task.hidden_by_rule = "active", False
    if step in effects.owners:
        chosen = effects.owners[step]
        task.owners = TasksRepository.owner_rows(
            [int(u) for u in chosen["users"]], chosen["guests"], chosen["groups"])
    if step in effects.deadlines:
        task.deadline = run.started_at + offset(effects.deadlines[step])


async def sync_run_status(db: AsyncSession, run_id: str | None) -> None:
    """A run is complete once its last visible task is, and active again when one reopens."""
    if run_id is None:
        return
    repo = RunsRepository(db)
    run = await repo.get_by_id(run_id)
    if run is None or run.deleted_at is not None:
        return
    done, total = (await repo.progress_of([run_id])).get(run_id, (0, 0))
    if total and done == total and run.status == "active":
        run.status, run.completed_at = "complete", now()
    elif done < total and run.status == "complete":
        run.status, run.completed_at = "active", None
    await db.flush()
