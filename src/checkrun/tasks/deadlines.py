"""Deadlines by the rules: a step's `deadline` `{value, unit, option: from|prior_to, step}` (or
the organization's `default_deadline` for a step without one), counted in the organization's
working time (`kit/worktime.py`). A rule that names another step counts from that step's task:
from its completion once it is completed, from its deadline before. Launch, completion,
reopening, deadline changes and the automatic-deadline routes all count the same way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit.worktime import WorkWeek, shift, unit_of
from checkrun.orgs.models import Organization
from checkrun.orgs.repository import OrgsRepository
from checkrun.runs.models import Run
from checkrun.runs.repository import RunsRepository
from checkrun.tasks.models import Task
from checkrun.tasks.repository import TasksRepository

# Where a task keeps what automation rules applied to it (runs/rules.py).
RULE_STATE = "rules"
# Where a launched task keeps the rule its deadline came from (the template may change later).
SNAPSHOT = "deadline_rule"
DEFAULT_DEADLINE = {"type": "days", "value": 5}


@dataclass(frozen=True)
class Rule:
    value: int
    unit: str
    backward: bool = False
    step: str | None = None  # counted from this step's task; None: from launch
    source: str = "step"  # step | default (the organization's default_deadline)

    @classmethod
    def read(cls, raw: Mapping[str, Any] | None, source: str = "step") -> Rule | None:
        """A step's deadline JSON (or a snapshot); None when there is none or it is unreadable."""
        if not isinstance(raw, Mapping) or raw.get("value") is None:
            return None
        try:
            value = max(0, int(str(raw["value"])))
        except ValueError:
            return None
        step = raw.get("step")
        return cls(
            value=value,
            unit=unit_of(raw.get("unit") or raw.get("type")),
            backward=raw.get("option") == "prior_to",
            step=str(step) if step else None,
            source=str(raw.get("source") or source),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "unit": self.unit + "s",
            "option": "prior_to" if self.backward else "from",
            "step": self.step,
            "source": self.source,
        }


def work_week(org: Organization | None) -> WorkWeek:
    prefs = (org.preferences if org else None) or {}
    return WorkWeek.of(org.timezone if org else None, prefs.get("working_days"))


def default_rule(org: Organization | None) -> Rule:
    prefs = (org.preferences if org else None) or {}
    given = prefs.get("default_deadline") or DEFAULT_DEADLINE
    return Rule.read(given, "default") or Rule(5, "day", source="default")


async def calendar(db: AsyncSession, org_id: str) -> tuple[WorkWeek, Rule]:
    """The organization's working time and its default deadline rule."""
    org = await OrgsRepository(db).get(org_id)
    return work_week(org), default_rule(org)


def counted(rule: Rule, anchor: datetime, week: WorkWeek) -> datetime:
    return shift(week, anchor, rule.value, rule.unit, rule.backward)


@dataclass
class Plan:
    deadlines: dict[str, datetime]
    # What each counted key was counted from: another key, or None for launch.
    anchored_on: dict[str, str | None]


def plan(
    rules: Mapping[str, Rule],
    launched: datetime,
    week: WorkWeek,
    fixed: Mapping[str, datetime] | None = None,
) -> Plan:
    """Each key's deadline by its rule. A key in `fixed` keeps that moment (a completion, a
    deadline given by hand) and anchors by it. A rule naming an unknown key counts from
    launch; a loop of rules naming each other is cut where it closes (that one counts from
    launch)."""
    out: dict[str, datetime] = dict(fixed or {})
    anchored: dict[str, str | None] = {}
    for key in rules:
        chain: list[str] = []
        current: str | None = key
        while (
            current is not None and current in rules and current not in out and current not in chain
        ):
            chain.append(current)
            current = rules[current].step
        for link in reversed(chain):
            on = rules[link].step
            on = on if on is not None and on in out else None
            anchored[link] = on
            out[link] = counted(rules[link], out[on] if on else launched, week)
    return Plan({k: out[k] for k in rules}, anchored)


# --- tasks of a run -------------------------------------------------------------------------


def anchor_moment(task: Task) -> datetime | None:
    """What a rule naming this task's step counts from: its completion, else its deadline."""
    if task.status == "completed" and task.completed_at is not None:
        return task.completed_at
    return task.deadline


def follows_rules(task: Task) -> bool:
    """An open process task whose deadline the rules keep: not given by hand, not set by an
    automation rule."""
    return (
        task.step_id is not None
        and not task.deadline_set_by_hand
        and task.status != "completed"
        and task.deleted_at is None
        and "deadline" not in ((task.settings or {}).get(RULE_STATE) or {})
    )


async def _rules_of(db: AsyncSession, tasks: list[Task], default: Rule) -> dict[str, Rule]:
    """Each process task's rule by step id: the one kept at launch, else (tasks launched before
    rules were kept) its step's, else the organization's default."""
    missing = [t.step_id for t in tasks if t.step_id and SNAPSHOT not in (t.settings or {})]
    steps = await TasksRepository(db).steps_by_ids([s for s in missing if s])
    rules: dict[str, Rule] = {}
    for task in tasks:
        if task.step_id is None:
            continue
        kept = (task.settings or {}).get(SNAPSHOT)
        step = steps.get(task.step_id)
        raw = kept if kept is not None else (step.deadline if step else None)
        rules[task.step_id] = Rule.read(raw) or default
    return rules


@dataclass
class RunTasks:
    run: Run
    week: WorkWeek
    by_step: dict[str, Task]
    rules: dict[str, Rule]
    tasks: list[Task]  # all of the run's, archived ones too

    def plan(self, counted_too: set[str]) -> Plan:
        """The rules' deadlines, counting the tasks that follow another step's and those in
        `counted_too`; every other task anchors by what it has."""
        moving = {s for s, t in self.by_step.items() if follows_rules(t) and self.rules[s].step}
        moving |= counted_too
        fixed = {
            s: m
            for s, t in self.by_step.items()
            if s not in moving and (m := anchor_moment(t)) is not None
        }
        return plan(self.rules, self.run.started_at, self.week, fixed)


async def run_tasks(db: AsyncSession, run_id: str) -> RunTasks | None:
    run = await RunsRepository(db).get_by_id(run_id)
    if run is None:
        return None
    tasks = await TasksRepository(db).tasks_of_run_unowned(run.id)
    week, default = await calendar(db, run.org_id)
    by_step = {t.step_id: t for t in tasks if t.step_id}
    return RunTasks(run, week, by_step, await _rules_of(db, tasks, default), tasks)


async def follow(db: AsyncSession, task: Task) -> RunTasks | None:
    """After `task` completed, reopened or got another deadline: the open tasks of its run that
    count from another step (directly or through others) get the deadline the rules give now,
    unless a person or an automation rule set theirs. Answers the run's tasks it read (none
    for a task of no step)."""
    if task.run_id is None or task.step_id is None:
        return None
    found = await run_tasks(db, task.run_id)
    if found is None:
        return None
    planned = found.plan(set())
    for step, other in found.by_step.items():
        if (
            follows_rules(other)
            and found.rules[step].step
            and other.deadline != planned.deadlines[step]
        ):
            other.deadline = planned.deadlines[step]
    await db.flush()
    return found
