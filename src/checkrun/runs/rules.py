"""What a run's form values do to its tasks (the template's automation rules), and the run
status that follows from its tasks."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.comments.repository import CommentsRepository, Issues
from checkrun.kit.auth import Actor
from checkrun.kit.clock import iso, now, parse_datetime
from checkrun.kit.worktime import WorkWeek
from checkrun.runs.history import record
from checkrun.runs.models import Run
from checkrun.runs.repository import RunsRepository, stats_from
from checkrun.tasks.deadlines import RULE_STATE, Rule, calendar, counted
from checkrun.tasks.models import Task
from checkrun.tasks.repository import TasksRepository
from checkrun.templates.automations import (
    MAX_ROUNDS,
    Effects,
    StepState,
    actions_of,
    assigned,
    column_index,
    settle,
)
from checkrun.templates.versions import kickoff_fields_of_run, rules_for_run, task_fields_of_run

# Where a task keeps what rules changed, so that it can be undone when the rule stops firing:
# {"owners": applied, "owners_before": {...}, "deadline": applied, "deadline_before": iso}.
# A task reopened since its last completion carries REOPENED in its settings (the "reopened"
# step condition); a run keeps the ids of its rules that fire, so that a rule's one-off
# actions (reopen, webhook) run once each time it starts to fire.
REOPENED = "reopened"
BY_SYSTEM = "completed_by_system"
FIRING = "rules_firing"
# rule id -> when it started to fire (iso): where a deadline relative to the trigger counts from.
FIRED_AT = "rules_fired_at"
# What the rules changed during this session (one request): session.info keys.
CHANGED = "tasks_changed_by_rules"
EVALUATED = "rules_evaluated"
RULE_EVENT = "automation.fired"

Changes = dict[str, dict[str, Any]]


async def apply_rules(
    db: AsyncSession,
    run: Run,
    actor: Actor | None = None,
    *,
    launch: bool = False,
    completed: Task | None = None,
) -> Changes:
    """Evaluates the template's rules against the kick-off values, the tasks' values and the
    tasks' states of this run, and applies them: visibility, assignment and deadline on tasks
    not completed (undone when the rule stops firing); reopen and webhook once each time a rule
    starts to fire, except that a rule reading a step's form field runs them when that step is
    completed (`completed`) while it fires: completing a task submits its form. A reopen
    changes what step conditions read, so this repeats (at most MAX_ROUNDS times) until nothing
    more is reopened. Answers what changed, by task id."""
    rules = await rules_for_run(db, run)
    if not rules:
        return {}
    rules = await _with_columns(db, run, rules)
    # The run's lock orders concurrent changes: a rule's one-off actions run exactly once.
    run = await RunsRepository(db).lock(run.org_id, run.id) or run
    repo = TasksRepository(db)
    tasks = [
        t for t in (await repo.tasks_of_runs([run.id])).get(run.id, []) if t.deleted_at is None
    ]
    before = {t.id: _snapshot(t) for t in tasks}
    step_values = _by_step(tasks, await repo.values_of([t.id for t in tasks]))
    reading_captures = {str(r.get("id")) for r in rules if _captures_read(r)}
    previous = (run.settings or {}).get(FIRING)
    # A run from before rules remembered what fired: what fires now is not new.
    firing: set[str] | None = set(previous) if isinstance(previous, list) else None
    fields = await _submitted(repo, completed)
    submitted = {str(r.get("id")) for r in rules if _captures_read(r) & fields}
    week: WorkWeek | None = None
    fired_at = dict((run.settings or {}).get(FIRED_AT) or {})
    for _ in range(MAX_ROUNDS):
        effects = settle(rules, dict(run.prerun or {}), step_values, _states(tasks))
        fired_at = {i: fired_at.get(i) or iso(now()) for i in sorted(effects.firing)}
        if effects.deadlines and week is None:
            week = (await calendar(db, run.org_id))[0]
        for task in tasks:
            if task.step_id is not None and task.status != "completed":
                _apply(task, effects, run, week, fired_at)
        started = set(effects.firing) - (firing if firing is not None else set())
        if firing is None and not launch:
            started = set()
        started = {i for i in started if i not in reading_captures}
        started |= {i for i in effects.firing if i in submitted}
        submitted = set()  # a completion submits its form once, in the first round
        firing = set(effects.firing)
        if not await _one_off_actions(db, run, rules, started, tasks, actor):
            break
    run.settings = {**(run.settings or {}), FIRING: sorted(firing or ()), FIRED_AT: fired_at}
    await db.flush()
    await sync_run_status(db, run.id, actor)
    changes = _changes(before, tasks)
    _remember(db, changes, len(rules))
    return changes


async def _with_columns(
    db: AsyncSession, run: Run, rules: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The rules with each table-column condition's `column_index`: the position of the named
    column among its field's columns, as the run's version has them."""
    if not any(c.get("column_contains_name") for r in rules for c in _conditions(r)):
        return rules
    tasks = (await TasksRepository(db).tasks_of_runs([run.id])).get(run.id, [])
    columns = {f.id: f.columns or [] for f in await kickoff_fields_of_run(db, run)}
    for found in (await task_fields_of_run(db, run, tasks)).values():
        columns |= {f.id: f.columns or [] for f in found}
    return [{**r, "conditions": [_indexed(c, columns) for c in _conditions(r)]} for r in rules]


def _conditions(rule: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in rule.get("conditions") or [] if isinstance(c, dict)]


def _indexed(condition: dict[str, Any], columns: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    name = condition.get("column_contains_name")
    if not name:
        return condition
    found = columns.get(str(condition.get("conditionable_id"))) or []
    return {**condition, "column_index": column_index(found, str(name))}


def _captures_read(rule: dict[str, Any]) -> set[str]:
    return {
        str(c.get("conditionable_id"))
        for c in rule.get("conditions") or []
        if isinstance(c, dict) and c.get("conditionable_type") == "Capture"
    }


async def _submitted(repo: TasksRepository, completed: Task | None) -> set[str]:
    """The field ids a completion submits: the completed task's step's form fields."""
    if completed is None or completed.step_id is None:
        return set()
    return {c.id for c in (await repo.fields_of([completed])).get(completed.id, [])}


def changed_by_rules(db: AsyncSession) -> Changes:
    """What rules changed in this session's requests so far (the completion answers)."""
    found = db.info.get(CHANGED)
    return dict(found) if isinstance(found, dict) else {}


def rules_evaluated(db: AsyncSession) -> int:
    return int(db.info.get(EVALUATED) or 0)


def _remember(db: AsyncSession, changes: Changes, evaluated: int) -> None:
    kept: Changes = db.info.setdefault(CHANGED, {})
    for task_id, change in changes.items():
        kept[task_id] = {**kept.get(task_id, {}), **change}
    db.info[EVALUATED] = evaluated


def _snapshot(task: Task) -> dict[str, Any]:
    return {"status": task.status, "owners": task.owner_lists(), "deadline": iso(task.deadline)}


def _changes(before: dict[str, dict[str, Any]], tasks: list[Task]) -> Changes:
    """Per task, the new value of what changed: `status`, `owners`, `deadline`."""
    out: Changes = {}
    for task in tasks:
        old, new = before.get(task.id, {}), _snapshot(task)
        diff = {k: v for k, v in new.items() if old.get(k) != v}
        if diff:
            out[task.id] = diff
    return out


def _by_step(tasks: list[Task], values: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for task in tasks:
        if task.step_id is not None:
            out.setdefault(task.step_id, {}).update(values.get(task.id, {}))
    return out


def _states(tasks: list[Task]) -> dict[str, StepState]:
    """What step conditions read, per step (its first task in the run)."""
    out: dict[str, StepState] = {}
    for task in tasks:
        if task.step_id is None or task.step_id in out:
            continue
        settings = task.settings or {}
        rule_state = settings.get(RULE_STATE) or {}
        own = rule_state.get("owners_before") if "owners" in rule_state else task.owner_lists()
        out[task.step_id] = StepState(
            status="active" if task.hidden_by_rule else task.status,
            step_type=task.task_type,
            is_approved=task.is_approved,
            completed_by_person=not settings.get(BY_SYSTEM),
            reopened=bool(settings.get(REOPENED)),
            unassigned=not any((own or {}).values()),
        )
    return out


async def _one_off_actions(
    db: AsyncSession,
    run: Run,
    rules: list[dict[str, Any]],
    started: set[str],
    tasks: list[Task],
    actor: Actor | None,
) -> bool:
    """Runs the reopen and webhook actions of the rules that started to fire; answers whether
    a task was reopened. A reopen only acts on a completed task (Tallyfy's status action)."""
    from checkrun.tasks.completion import reopen_without_rules  # completion imports this module

    by_step: dict[str, Task] = {}
    for task in tasks:
        by_step.setdefault(task.step_id or "", task)
    reopened = False
    for rule in (r for r in rules if str(r.get("id")) in started):
        for action in actions_of(rule):
            kind = action.get("action_type")
            target = by_step.get(str(action.get("target_step_id")))
            if kind == "status" and target is not None and target.status == "completed":
                await reopen_without_rules(db, actor, target)
                reopened = True
            elif kind == "webhook":
                await _send(db, run, rule, action)
    return reopened


async def _send(db: AsyncSession, run: Run, rule: dict[str, Any], action: dict[str, Any]) -> None:
    """The webhook action: the process payload and the rule, through the outbox (this
    transaction), to the action's URL."""
    from checkrun.webhooks.payloads import process_payload  # reads runs: imports runs.service
    from checkrun.webhooks.service import enqueue

    await db.flush()
    payload = await process_payload(db, RULE_EVENT, run)
    payload["automation"] = {
        "id": rule.get("id"),
        "automated_alias": rule.get("automated_alias"),
        "action_id": action.get("id"),
    }
    url = str(action.get("webhook_url") or "")
    await enqueue(db, run.org_id, RULE_EVENT, [(url, "rule")], payload, run.id, None)


def _apply(
    task: Task, effects: Effects, run: Run, week: WorkWeek | None, fired_at: dict[str, str]
) -> None:
    step = task.step_id or ""
    if step in effects.hidden_steps:
        task.status, task.hidden_by_rule = "auto-skipped", True
    elif task.hidden_by_rule:
        task.status, task.hidden_by_rule = "active", False
    state = dict((task.settings or {}).get(RULE_STATE) or {})
    changed = _assign(task, state, effects.owners.get(step))
    rule = _anchored(effects.deadlines.get(step), run, fired_at)
    changed = _set_deadline(task, state, rule, run, week) or changed
    if changed:
        # A new dict: the JSON column only notices assignment.
        task.settings = {**(task.settings or {}), RULE_STATE: state}


def _assign(
    task: Task, state: dict[str, Any], ops: list[tuple[str, dict[str, list[Any]]]] | None
) -> bool:
    """Applies the rules' assignment actions (to the assignees the task had before any rule
    changed them) once: a later manual change stands until the rules' choice changes; the
    assignees they replaced come back when no rule assigns any more."""
    wanted: dict[str, list[Any]]
    if ops:
        base = state["owners_before"] if "owners" in state else task.owner_lists()
        chosen = assigned(base, ops)
        wanted = {
            "users": [int(u) for u in chosen["users"] if str(u).isdigit()],
            "guests": chosen["guests"],
            "groups": chosen["groups"],
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


def _anchored(
    rule: dict[str, Any] | None, run: Run, fired_at: dict[str, str]
) -> dict[str, Any] | None:
    """A rule's deadline with the moment it counts from (`from_time`): its rule's trigger point
    when it asks for it, else launch."""
    if rule is None:
        return None
    trigger = fired_at.get(str(rule.get("rule"))) if rule.get("relative_to") == "trigger" else None
    return {**rule, "from_time": trigger or iso(run.started_at)}


def _set_deadline(
    task: Task, state: dict[str, Any], rule: dict[str, Any] | None, run: Run, week: WorkWeek | None
) -> bool:
    """As `_assign`, for a rule's deadline: counted from launch (or from the rule's trigger
    point, `from_time`) in the organization's working time, as the steps' own deadlines are."""
    if rule is not None:
        if state.get("deadline") == rule:
            return False
        state.setdefault("deadline_before", iso(task.deadline))
        state["deadline"] = rule
        counted_rule = Rule.read({**rule, "step": None}) or Rule(0, "day")
        anchor = parse_datetime(str(rule["from_time"]))
        task.deadline = counted(counted_rule, anchor, week) if week else anchor
    elif "deadline" in state:
        state.pop("deadline")
        before = state.pop("deadline_before")
        task.deadline = parse_datetime(before) if before else None
    else:
        return False
    return True


async def sync_run_status(
    db: AsyncSession,
    run_id: str | None,
    actor: Actor | None = None,
    *,
    issues: Issues | None = None,
    tasks: list[Task] | None = None,
) -> None:
    """A run is complete once its last visible task is and its kick-off form is submitted, and
    active again when either reopens. An open issue wins over both: `problem` (a task's) or
    `issue` (the process's own) until it is resolved. `issues` and `tasks` (all of the run's,
    as they are now): when the caller read them already, under the run's lock."""
    if run_id is None:
        return
    repo = RunsRepository(db)
    run = await repo.get_by_id(run_id)
    # Locked (usually already, by whoever changed its tasks): two requests that each finish a
    # last task must not both see the run unfinished, nor both complete it.
    run = await repo.lock(run.org_id, run.id) if run is not None else None
    if run is None or run.deleted_at is not None:
        return
    stats = (
        stats_from(tasks, now())
        if tasks is not None
        else (await repo.stats_of([run_id])).get(run_id)
    )
    finished = (
        stats is not None
        and stats.total > 0
        and stats.complete == stats.total
        and run.prerun_completed_at is not None
    )
    by_issue = (
        issues.status
        if issues is not None
        else await CommentsRepository(db).issue_status(run.org_id, run.id)
    )
    status = by_issue or ("complete" if finished else "active")
    if status == "complete" and run.status != "complete":
        run.status, run.completed_at = "complete", now()
        await record(db, actor, run, "completed", f"Completed {run.name}")
    elif status != "complete" and (run.status, run.completed_at) != (status, None):
        # Set only when it changes: a run set to what it was still costs the flush a look.
        run.status, run.completed_at = status, None
    await db.flush()
