"""What a run's form values do to its tasks (the template's automation rules), and the run
status that follows from its tasks."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.comments.repository import CommentsRepository
from checkrun.kit import events
from checkrun.kit.auth import Actor
from checkrun.kit.clock import iso, now, parse_datetime
from checkrun.kit.worktime import WorkWeek
from checkrun.runs.models import Run
from checkrun.runs.repository import RunsRepository
from checkrun.tasks.deadlines import RULE_STATE, Rule, calendar, counted
from checkrun.tasks.models import Task
from checkrun.tasks.repository import TasksRepository
from checkrun.templates.automations import Effects, evaluate
from checkrun.templates.repository import TemplatesRepository

# Where a task keeps what rules changed, so that it can be undone when the rule stops firing:
# {"owners": applied, "owners_before": {...}, "deadline": applied, "deadline_before": iso}.


async def apply_rules(db: AsyncSession, run: Run, actor: Actor | None = None) -> None:
    """Evaluates the template's rules against the kick-off and task values of this run; tasks
    already completed keep what they had."""
    found = await TemplatesRepository(db).by_ids([run.checklist_id])
    if not found or not found[0].automated_actions:
        return
    repo = TasksRepository(db)
    tasks = (await repo.tasks_of_runs([run.id])).get(run.id, [])
    values = dict(run.prerun or {})
    for task_values in (await repo.values_of([t.id for t in tasks])).values():
        values.update(task_values)
    effects = evaluate(found[0].automated_actions, values)
    week = (await calendar(db, run.org_id))[0] if effects.deadlines else None
    for task in tasks:
        if task.step_id is not None and task.status != "completed":
            _apply(task, effects, run, week)
    await db.flush()
    await sync_run_status(db, run.id, actor)


def _apply(task: Task, effects: Effects, run: Run, week: WorkWeek | None) -> None:
    step = task.step_id or ""
    if step in effects.hidden_steps:
        task.status, task.hidden_by_rule = "auto-skipped", True
    elif task.hidden_by_rule:
        task.status, task.hidden_by_rule = "active", False
    state = dict((task.settings or {}).get(RULE_STATE) or {})
    changed = _assign(task, state, effects.owners.get(step))
    changed = _set_deadline(task, state, effects.deadlines.get(step), run, week) or changed
    if changed:
        # A new dict: the JSON column only notices assignment.
        task.settings = {**(task.settings or {}), RULE_STATE: state}


def _assign(task: Task, state: dict[str, Any], chosen: dict[str, list[Any]] | None) -> bool:
    """Applies a rule's assignees once (a later manual change stands until the rule's choice
    changes); restores the assignees it replaced when no rule assigns any more."""
    wanted: dict[str, list[Any]]
    if chosen is not None:
        wanted = {
            "users": [int(u) for u in chosen.get("users", []) if str(u).isdigit()],
            "guests": [str(g) for g in chosen.get("guests", [])],
            "groups": [str(g) for g in chosen.get("groups", [])],
        }
        if state.get("owners") == wanted:
            return False
        state.setdefault("owners_before", task.owner_lists())
        state["owners"] = wanted
    elif "owners" in state:
        state.pop("owners")
        wanted = state.pop("owners_before")
    else:
        return False
    task.owners = TasksRepository.owner_rows(wanted["users"], wanted["guests"], wanted["groups"])
    return True


def _set_deadline(
    task: Task, state: dict[str, Any], rule: dict[str, Any] | None, run: Run, week: WorkWeek | None
) -> bool:
    """As `_assign`, for a rule's deadline: counted from launch in the organization's working
    time, as the steps' own deadlines are."""
    if rule is not None:
        if state.get("deadline") == rule:
            return False
        state.setdefault("deadline_before", iso(task.deadline))
        state["deadline"] = rule
        counted_rule = Rule.read(rule) or Rule(0, "day")
        task.deadline = counted(counted_rule, run.started_at, week) if week else run.started_at
    elif "deadline" in state:
        state.pop("deadline")
        before = state.pop("deadline_before")
        task.deadline = parse_datetime(before) if before else None
    else:
        return False
    return True


async def sync_run_status(db: AsyncSession, run_id: str | None, actor: Actor | None = None) -> None:
    """A run is complete once its last visible task is and its kick-off form is submitted, and
    active again when either reopens. An open issue wins over both: `problem` (a task's) or
    `issue` (the process's own) until it is resolved."""
    if run_id is None:
        return
    repo = RunsRepository(db)
    run = await repo.get_by_id(run_id)
    # Locked (usually already, by whoever changed its tasks): two requests that each finish a
    # last task must not both see the run unfinished, nor both complete it.
    run = await repo.lock(run.org_id, run.id) if run is not None else None
    if run is None or run.deleted_at is not None:
        return
    stats = (await repo.stats_of([run_id])).get(run_id)
    finished = (
        stats is not None
        and stats.total > 0
        and stats.complete == stats.total
        and run.prerun_completed_at is not None
    )
    status = await CommentsRepository(db).issue_status(run.org_id, run.id) or (
        "complete" if finished else "active"
    )
    if status == "complete" and run.status != "complete":
        run.status, run.completed_at = "complete", now()
        await events.emit(
            db,
            events.Event(
                org_id=run.org_id,
                type="Process",
                verb="completed",
                entity_type="run",
                entity_id=run.id,
                run_id=run.id,
                checklist_id=run.checklist_id,
                description=f"Completed {run.name}",
                **events.by(actor),
            ),
        )
    elif status != "complete":
        run.status, run.completed_at = status, None
    await db.flush()
