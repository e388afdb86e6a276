"""Reminders: an open, assigned task is `due-soon` the organization's lead before its deadline
and `overdue` when the deadline passes, once per task per deadline value.

Each task carries the next moment a reminder is due (`remind_at`, null when none is pending,
under a partial index) and the deadline each kind was last sent for. `remind_at` is set
whenever a task's deadline, status or archive state changes in a flush (a hook below, so no
writer can forget it) and when an organization changes its reminder settings; the job reads
only rows whose moment has come, and each row it reads leaves with a later moment or none. A
changed deadline is a new value, so it reminds again; a task completed before its moment has
no moment left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.attributes import get_history
from sqlalchemy.orm.base import PASSIVE_NO_INITIALIZE

from checkrun.config import Settings
from checkrun.kit import events
from checkrun.kit.clock import iso
from checkrun.orgs.models import Organization
from checkrun.orgs.schemas import DEFAULTS
from checkrun.scheduler.repository import ReminderRow, SchedulerRepository
from checkrun.tasks.models import Task
from checkrun.tasks.repository import OPEN

SETTINGS = ("reminder_due_soon_hours", "reminder_overdue")
# An expiring task is not late at its deadline: it completes then (scheduler/jobs.py).
EXPIRING = ("expiring", "expiring_email")
WATCHED = ("deadline", "status", "deleted_at")
WATCHED_SET = frozenset(WATCHED)


@dataclass(frozen=True)
class Rules:
    lead: timedelta  # zero: no due-soon reminder
    overdue: bool

    @classmethod
    def of(cls, preferences: dict[str, Any] | None) -> Rules:
        prefs = {**DEFAULTS, **(preferences or {})}
        return cls(
            timedelta(hours=int(prefs["reminder_due_soon_hours"] or 0)),
            bool(prefs["reminder_overdue"]),
        )

    def for_type(self, task_type: str) -> Rules:
        return Rules(self.lead, False) if task_type in EXPIRING else self


def next_moment(
    deadline: datetime | None, soon_for: datetime | None, overdue_for: datetime | None, rules: Rules
) -> datetime | None:
    """When the next reminder of this deadline is due, given what was sent for it."""
    if deadline is None or overdue_for == deadline:
        return None
    if rules.lead and soon_for != deadline:
        return deadline - rules.lead
    return deadline if rules.overdue else None


@dataclass(frozen=True)
class Decision:
    verb: str | None  # the event to emit, if any
    values: dict[str, Any]  # what the task records


def decide(row: ReminderRow, rules: Rules, moment: datetime, assigned: bool) -> Decision:
    """What a due row gets at `moment`. Past the deadline no due-soon is sent any more; a task
    nobody is assigned to counts as reminded (nobody to tell)."""
    deadline = row.deadline
    if not row.is_open or deadline is None:
        return Decision(None, {"remind_at": None})
    soon_for, overdue_for, verb = row.reminded_soon_for, row.reminded_overdue_for, None
    if moment >= deadline:
        if rules.overdue and overdue_for != deadline:
            verb, overdue_for = "overdue", deadline
        soon_for = deadline
    elif rules.lead and soon_for != deadline and moment >= deadline - rules.lead:
        verb, soon_for = "due-soon", deadline
    values = {
        "reminded_soon_for": soon_for,
        "reminded_overdue_for": overdue_for,
        "remind_at": next_moment(deadline, soon_for, overdue_for, rules),
    }
    return Decision(verb if assigned else None, values)


async def run(db: AsyncSession, moment: datetime, settings: Settings) -> int:
    repo = SchedulerRepository(db)
    rows = await repo.due_reminders(moment, settings.scheduler_batch_size)
    if not rows:
        return 0
    prefs = await repo.preferences_of({r.org_id for r in rows})
    assigned = await repo.with_assignees([r.id for r in rows if r.is_open])
    for row in rows:
        rules = Rules.of(prefs.get(row.org_id)).for_type(row.task_type)
        decision = decide(row, rules, moment, row.id in assigned)
        if await repo.set_reminded(row, decision.values) and decision.verb:
            await _emit(db, row, decision.verb)
    return len(rows)


async def _emit(db: AsyncSession, row: ReminderRow, verb: str) -> None:
    said = "is due soon" if verb == "due-soon" else "is overdue"
    await events.emit(
        db,
        events.Event(
            org_id=row.org_id,
            type="Task",
            verb=verb,
            entity_type="task",
            entity_id=row.id,
            task_id=row.id,
            run_id=row.run_id,
            checklist_id=row.checklist_id,
            actor_id=None,
            source="System",
            description=f"{row.title} {said}",
            extra={"deadline": iso(row.deadline)},
        ),
    )


# -- keeping remind_at right -------------------------------------------------------------------


def moment_of(task: Task, rules: Rules) -> datetime | None:
    if task.deleted_at is not None or task.status not in OPEN:
        return None
    return next_moment(
        task.deadline,
        task.reminded_soon_for,
        task.reminded_overdue_for,
        rules.for_type(task.task_type),
    )


def _touched(task: Task) -> bool:
    state = inspect(task)
    if state.pending:
        return True
    # An attribute never set since the load has no history: most dirty tasks changed other
    # columns. (`state.attrs` would build every attribute's state: most of this hook's cost.)
    changed = state.committed_state.keys() & WATCHED_SET
    return any(get_history(task, name, PASSIVE_NO_INITIALIZE).has_changes() for name in changed)


def _before_flush(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    tasks = [o for o in (*session.new, *session.dirty) if isinstance(o, Task) and _touched(o)]
    if not tasks:
        return
    with session.no_autoflush:
        # The organization is usually loaded already (its calendar): no statement then.
        orgs = {org_id: session.get(Organization, org_id) for org_id in {t.org_id for t in tasks}}
        prefs = {org_id: org.preferences if org else None for org_id, org in orgs.items()}
    for task in tasks:
        task.remind_at = moment_of(task, Rules.of(prefs.get(task.org_id)))


async def reschedule(db: AsyncSession, org_id: str) -> None:
    """Every open task of the organization under its new reminder settings (rare: an admin
    changed them)."""
    repo = SchedulerRepository(db)
    rules = Rules.of((await repo.preferences_of({org_id})).get(org_id))
    moved: dict[str, datetime | None] = {}
    for (
        task_id,
        task_type,
        deadline,
        remind_at,
        soon_for,
        overdue_for,
    ) in await repo.open_with_deadline(org_id):
        at = next_moment(deadline, soon_for, overdue_for, rules.for_type(task_type))
        if at != remind_at:
            moved[task_id] = at
    await repo.set_remind_at(moved)


async def on_event(db: AsyncSession, event: events.Event) -> None:
    if (event.type, event.verb) == ("Organization", "updated") and set(SETTINGS) & set(
        event.new_value or ()
    ):
        await reschedule(db, event.org_id)


def install() -> None:
    if not sa_event.contains(Session, "before_flush", _before_flush):
        sa_event.listen(Session, "before_flush", _before_flush)
    events.subscribe(on_event)
