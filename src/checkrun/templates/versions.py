"""Template versions: what a run was launched from (its kick-off fields, its tasks' form fields
and the automation rules that evaluate it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.runs.models import Run
from checkrun.tasks.models import Task
from checkrun.tasks.repository import TasksRepository
from checkrun.templates.models import Capture
from checkrun.templates.repository import TemplatesRepository


async def kickoff_fields_of_run(db: AsyncSession, run: Run) -> list[Capture]:
    """The kick-off fields of the template the run came from."""
    found = await TemplatesRepository(db).prerun_of([run.checklist_id])
    return found.get(run.checklist_id, [])


async def task_fields_of_run(
    db: AsyncSession, run: Run, tasks: list[Task]
) -> dict[str, list[Capture]]:
    """Each task's form fields (its step's)."""
    return await TasksRepository(db).fields_of(tasks)


async def rules_for_run(db: AsyncSession, run: Run) -> list[dict[str, Any]]:
    """The automation rules that evaluate this run."""
    found = await TemplatesRepository(db).by_ids([run.checklist_id])
    return list(found[0].automated_actions or []) if found else []
