"""Sub-processes injected into the running process (`bp_to_launch.tasks_within_process`):
completing the trigger task puts the target template's steps into the trigger's own run, as
tasks right after it, made as a launch of that template would make them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.guests.service import ensure_guests
from checkrun.kit import events
from checkrun.kit.auth import Actor
from checkrun.kit.clock import now
from checkrun.kit.ids import new_id
from checkrun.orgs.repository import OrgsRepository
from checkrun.runs import service, variables
from checkrun.runs.models import Run
from checkrun.runs.shell import INJECTED
from checkrun.scheduler.reminders import Rules
from checkrun.tags.service import tag_subject
from checkrun.tasks import deadlines
from checkrun.tasks.models import Task
from checkrun.tasks.repository import TasksRepository
from checkrun.templates import versions
from checkrun.templates.models import Capture, Checklist, Step
from checkrun.templates.repository import TemplatesRepository

# Task.settings of an injected task: where it came from (it has no step of its run's template).
INJECTED_FROM = "injected_from"
# Form field attributes an injected task's own copy of a step's field keeps.
FIELD_COPIED = (
    "field_type",
    "label",
    "alias",
    "guidance",
    "position",
    "required",
    "options",
    "columns",
    "settings",
)


async def inject(
    db: AsyncSession, trigger: Task, parent: Run, checklist: Checklist, launcher: Actor
) -> None:
    """The target's steps (its published version) as tasks of `parent` after `trigger`;
    the trigger task keeps their ids, so it injects once."""
    parts = await versions.launch_parts(db, checklist)
    steps = parts.steps
    fields = await _fields_of_steps(db, checklist, steps)
    made = await _make_tasks(db, trigger, parent, checklist, launcher, steps)
    repo = TasksRepository(db)
    for _ in steps:
        await repo.make_room(parent.id, trigger.position + 1)
    for i, (task, _rows) in enumerate(made, start=1):
        task.position = trigger.position + i
        repo.add(task)
    await db.flush()
    for task, _rows in made:
        for field in fields.get(_step_of(task), []):
            repo.add(_copy(field, task))
    await repo.insert_owners([row for _, rows in made for row in rows])
    await _tag(db, launcher, steps, made)
    guests = [r["ref"] for _, rows in made for r in rows if r["kind"] == "guest"]
    await ensure_guests(db, parent.org_id, guests, actor=launcher, refuse_members=False)
    if any(variables.RAW.values() & task.settings.keys() for task, _ in made):
        parent.settings = {**(parent.settings or {}), variables.HAS_VARIABLES: True}
    trigger.settings = {**trigger.settings, INJECTED: [task.id for task, _ in made]}
    await db.flush()
    await variables.refresh(db, parent)
    await _record(db, trigger, parent, checklist, launcher, [task for task, _ in made])


async def _make_tasks(
    db: AsyncSession,
    trigger: Task,
    parent: Run,
    checklist: Checklist,
    launcher: Actor,
    steps: list[Step],
) -> list[tuple[Task, list[dict[str, str]]]]:
    """Tasks as a launch of the target by `launcher` now makes them: deadlines and start
    dates counted from now, the launcher for "assign launcher"; in the parent's run."""
    org = await OrgsRepository(db).get(parent.org_id)
    week = deadlines.work_week(org)
    started = now()
    reminders = Rules.of(org.preferences if org else None)
    rules = service.step_rules(steps, deadlines.default_rule(org))
    planned = service.step_deadlines(rules, started, week)
    plan = service.Launch(week, rules, planned, reminders, version=None)
    first = await OrgsRepository(db).next_numbers(parent.org_id, "task", len(steps))
    # A stand-in for the launch's run, never added to the session: the tasks go into the
    # parent, started by the launcher now.
    as_launched = Run(
        id=parent.id,
        org_id=parent.org_id,
        checklist_id=parent.checklist_id,
        started_by=launcher.user_id,
        started_at=started,
    )
    made = []
    for n, step in enumerate(steps, start=first):
        row, rows = service._task_for_step(as_launched, step, n, plan, None)
        task = Task(**row)
        # Its step is another template's: the task is the run's own (one-off), and names
        # where it came from.
        task.step_id = None
        origin = {"checklist_id": checklist.id, "step_id": step.id, "task_id": trigger.id}
        task.settings = {**task.settings, INJECTED_FROM: origin}
        made.append((task, rows))
    del org
    return made


def _step_of(task: Task) -> str:
    return str((task.settings or {}).get(INJECTED_FROM, {}).get("step_id", ""))


async def _fields_of_steps(
    db: AsyncSession, checklist: Checklist, steps: list[Step]
) -> dict[str, list[Capture]]:
    """The steps' form fields as the launched version has them."""
    repo = TemplatesRepository(db)
    if versions.is_dual(checklist):
        content = await repo.version_content(checklist.id, checklist.version)
        if content is not None:
            return versions.step_fields(content)
    return await repo.captures_of_steps([s.id for s in steps])


def _copy(field: Capture, task: Task) -> Capture:
    """The task's own copy of a step's field (a later template edit does not change it)."""
    values = {name: getattr(field, name) for name in FIELD_COPIED}
    return Capture(id=new_id(), org_id=task.org_id, task_id=task.id, is_prerun=False, **values)


async def _tag(
    db: AsyncSession,
    launcher: Actor,
    steps: list[Step],
    made: list[tuple[Task, list[dict[str, str]]]],
) -> None:
    step_tags = await service._step_tags(db, launcher.org_id, steps)
    for task, _ in made:
        await tag_subject(db, launcher, "Task", task.id, step_tags.get(_step_of(task), []))


async def _record(
    db: AsyncSession,
    trigger: Task,
    parent: Run,
    checklist: Checklist,
    launcher: Actor,
    tasks: list[Task],
) -> None:
    """The trigger task's history names the tasks it put into the process (as new_value)."""
    await events.emit(
        db,
        events.Event(
            org_id=trigger.org_id,
            type="Task",
            verb="linked",
            entity_type="task",
            entity_id=trigger.id,
            task_id=trigger.id,
            run_id=parent.id,
            checklist_id=parent.checklist_id,
            description=f"Added the tasks of {checklist.title} from {trigger.title}",
            field="injected_task_ids",
            new_value=[task.id for task in tasks],
            **events.by(launcher),
        ),
    )
