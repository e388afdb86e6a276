"""Sub-processes: a task whose step has `bp_to_launch` launches that template when it is
completed, in the completion's transaction, once per task. The launched run names the run it
came from in `parent_id`; with `tasks_within_process` the template's steps become tasks of the
current run instead, right after the trigger task."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit import events
from checkrun.kit.auth import Actor
from checkrun.kit.clock import now
from checkrun.runs import service, variables
from checkrun.runs.injection import inject
from checkrun.runs.models import Run
from checkrun.runs.repository import RunsRepository
from checkrun.runs.schemas import RunLaunch
from checkrun.runs.shell import INJECTED, LAUNCHED, SUBPROCESS, acting_member
from checkrun.tasks.models import Task
from checkrun.templates.models import Checklist
from checkrun.templates.repository import TemplatesRepository

# Templates a completion can't launch (Tallyfy offers only these to pick): a document has no
# steps to run.
NOT_LAUNCHABLE_TYPES = ("document",)


async def on_event(db: AsyncSession, event: events.Event) -> None:
    if not (event.type == "Task" and event.verb == "completed" and event.run_id and event.task_id):
        return
    # The completed task is in the session (locked by the completion): no statement.
    task = await db.get(Task, event.task_id)
    settings = task.settings if task is not None else None
    if task is None or not settings or SUBPROCESS not in settings:
        return
    if LAUNCHED in settings or INJECTED in settings:
        return
    await _launch_from(db, task, settings[SUBPROCESS])


async def _launch_from(db: AsyncSession, task: Task, target: dict[str, object]) -> None:
    parent = await RunsRepository(db).get_by_id(task.run_id or "")
    if parent is None:
        return
    checklist = await _launchable(db, task.org_id, str(target.get("id")))
    launcher = await _launcher(db, task, parent) if checklist else None
    if checklist is None or launcher is None:
        return
    if target.get("tasks_within_process") is True:
        await inject(db, task, parent, checklist, launcher)
        return
    name_format = target.get("default_name_format")
    body = RunLaunch(
        checklist_id=checklist.id,
        name=_name(name_format, checklist, parent, now()) if isinstance(name_format, str) else None,
        parent_id=parent.id,
    )
    launched = await service.launch(db, launcher, body, api_base="")
    task.settings = {**task.settings, LAUNCHED: launched.id}
    await db.flush()
    # The trigger task's history names the process it launched (as new_value).
    await events.emit(
        db,
        events.Event(
            org_id=task.org_id,
            type="Task",
            verb="linked",
            entity_type="task",
            entity_id=task.id,
            task_id=task.id,
            run_id=parent.id,
            checklist_id=parent.checklist_id,
            description=f"Launched {launched.name} from {task.title}",
            field="launched_run_id",
            new_value=launched.id,
            **events.by(launcher),
        ),
    )


async def _launchable(db: AsyncSession, org_id: str, checklist_id: str) -> Checklist | None:
    """A live template of the organization, of a type that runs, with no required kick-off
    field (nobody is there to answer it); else nothing is launched."""
    templates = TemplatesRepository(db)
    checklist = await templates.get(org_id, checklist_id)
    if checklist is None or checklist.type in NOT_LAUNCHABLE_TYPES:
        return None
    fields = (await templates.prerun_of([checklist.id])).get(checklist.id, [])
    return None if any(f.required for f in fields) else checklist


async def _launcher(db: AsyncSession, task: Task, parent: Run) -> Actor | None:
    """Who launches: the task's completer; the process's owner when nobody completed it (the
    system, a guest) or the completer is a light member (who can't launch)."""
    return await acting_member(db, task.org_id, [task.completer_id, parent.owner_id])


def _name(name_format: str, checklist: Checklist, parent: Run, moment: datetime) -> str | None:
    """`default_name_format` with {{Template Name}}, {{Date}} and {{Process Name}} (the
    process it came from); empty: the template's own naming."""
    names = {
        "template_name": checklist.title,
        "date": f"{moment:%Y-%m-%d %H:%M}",
        "process_name": parent.name,
    }
    named = " ".join(variables.render(name_format, names).split())[:550]
    return named or None
