"""Every SQL statement of the scheduler: job leases, and the due rows of each job (each read
through its own index, in deadline order, at most a batch)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    CursorResult,
    Select,
    Table,
    bindparam,
    literal_column,
    select,
    text,
    update,
)

from checkrun.kit.repository import Repository
from checkrun.kit.sql import insert_ignoring_conflicts
from checkrun.orgs.models import Organization
from checkrun.runs.models import Run
from checkrun.scheduler.models import SchedulerJob
from checkrun.tasks.models import EXPIRING_SQL, OPEN_LIVE_SQL, Task, TaskOwner

TASKS = cast(Table, Task.__table__)


@dataclass(frozen=True)
class ReminderRow:
    """What the reminders job needs of a task whose reminder moment has come."""

    id: str
    org_id: str
    run_id: str | None
    checklist_id: str | None
    title: str
    task_type: str
    deadline: datetime | None
    is_open: bool
    remind_at: datetime | None
    reminded_soon_for: datetime | None
    reminded_overdue_for: datetime | None


def _changed(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


class SchedulerRepository(Repository):
    # -- leases -------------------------------------------------------------------------------

    async def take_lease(self, name: str, token: str, moment: datetime, until: datetime) -> bool:
        """The job's lease for `token` when nobody holds it or its holder's lease ran out (the
        job's row is made on its first run)."""
        take = (
            update(SchedulerJob)
            .where(
                SchedulerJob.name == name,
                SchedulerJob.lease_until.is_(None) | (SchedulerJob.lease_until <= moment),
            )
            .values(lease_token=token, lease_until=until)
        )
        if _changed(await self.db.execute(take)) == 1:
            return True
        made = await self.db.execute(
            insert_ignoring_conflicts(self.db, SchedulerJob, {"name": name, "runs": 0}, ["name"])
        )
        return _changed(made) == 1 and _changed(await self.db.execute(take)) == 1

    async def finish(self, name: str, token: str, moment: datetime) -> bool:
        """Records the run and gives the lease back, if `token` still holds it: the caller
        commits its work only then (a lease that ran out mid-run may have a new holder)."""
        result = await self.db.execute(
            update(SchedulerJob)
            .where(SchedulerJob.name == name, SchedulerJob.lease_token == token)
            .values(
                last_run_at=moment, runs=SchedulerJob.runs + 1, lease_token=None, lease_until=None
            )
        )
        return _changed(result) == 1

    async def release(self, name: str, token: str) -> None:
        await self.db.execute(
            update(SchedulerJob)
            .where(SchedulerJob.name == name, SchedulerJob.lease_token == token)
            .values(lease_token=None, lease_until=None)
        )

    # -- organizations ------------------------------------------------------------------------

    async def preferences_of(self, org_ids: set[str]) -> dict[str, dict[str, Any]]:
        rows = await self.db.execute(
            select(Organization.id, Organization.preferences).where(Organization.id.in_(org_ids))
        )
        return {org_id: prefs or {} for org_id, prefs in rows}

    async def all_preferences(self) -> dict[str, dict[str, Any]]:
        """Every organization's settings: the opt-in jobs (auto-complete, auto-archive) look
        for the organizations that turned them on (a handful of rows on a server)."""
        rows = await self.db.execute(select(Organization.id, Organization.preferences))
        return {org_id: prefs or {} for org_id, prefs in rows}

    # -- reminders ----------------------------------------------------------------------------

    async def due_reminders(self, moment: datetime, limit: int) -> list[ReminderRow]:
        is_open = literal_column(f"({OPEN_LIVE_SQL})", Boolean)
        rows = await self.db.execute(
            select(
                Task.id,
                Task.org_id,
                Task.run_id,
                Task.checklist_id,
                Task.title,
                Task.task_type,
                Task.deadline,
                is_open,
                Task.remind_at,
                Task.reminded_soon_for,
                Task.reminded_overdue_for,
            )
            .where(Task.remind_at <= moment)
            .order_by(Task.remind_at)
            .limit(limit)
        )
        return [
            ReminderRow(
                id=r[0],
                org_id=r[1],
                run_id=r[2],
                checklist_id=r[3],
                title=r[4],
                task_type=r[5],
                deadline=r[6],
                is_open=bool(r[7]),
                remind_at=r[8],
                reminded_soon_for=r[9],
                reminded_overdue_for=r[10],
            )
            for r in rows
        ]

    async def with_assignees(self, task_ids: list[str]) -> set[str]:
        if not task_ids:
            return set()
        rows = await self.db.execute(
            select(TaskOwner.task_id).distinct().where(TaskOwner.task_id.in_(task_ids))
        )
        return set(rows.scalars())

    async def set_reminded(self, row: ReminderRow, values: dict[str, Any]) -> bool:
        """Records what was sent and the next moment, if the task is still as read (not
        completed, moved or rescheduled meanwhile); `updated_at` stays: a reminder changes
        nothing a person sees on the task."""
        stmt = (
            update(TASKS)
            .where(TASKS.c.id == row.id, TASKS.c.remind_at == row.remind_at)
            .values(**values, updated_at=TASKS.c.updated_at)
        )
        if row.deadline is not None:
            stmt = stmt.where(TASKS.c.deadline == row.deadline)
        if row.is_open:
            stmt = stmt.where(text(OPEN_LIVE_SQL))
        return _changed(await self.db.execute(stmt)) == 1

    async def open_with_deadline(self, org_id: str) -> list[Any]:
        """An organization's open tasks with a deadline, when its reminder settings change."""
        rows = await self.db.execute(
            select(
                Task.id,
                Task.task_type,
                Task.deadline,
                Task.remind_at,
                Task.reminded_soon_for,
                Task.reminded_overdue_for,
            ).where(
                self.scope(Task, org_id),
                Task.status.in_(("not-started", "active", "in-progress")),
                Task.deadline.is_not(None),
            )
        )
        return list(rows)

    async def set_remind_at(self, moments: dict[str, datetime | None]) -> None:
        if not moments:
            return
        await self.db.execute(
            update(TASKS)
            .where(TASKS.c.id == bindparam("task_id"))
            .values(remind_at=bindparam("at"), updated_at=TASKS.c.updated_at),
            [{"task_id": task_id, "at": at} for task_id, at in moments.items()],
        )

    # -- expiring tasks, auto-complete, auto-archive ------------------------------------------

    async def _tasks(self, stmt: Select[Any]) -> list[Task]:
        return list((await self.db.execute(stmt)).scalars())

    async def expiring_due(self, moment: datetime, limit: int) -> list[Task]:
        return await self._tasks(
            select(Task)
            .where(text(EXPIRING_SQL), Task.deadline <= moment)
            .order_by(Task.deadline)
            .limit(limit)
        )

    async def overdue_since(self, org_id: str, cutoff: datetime, limit: int) -> list[Task]:
        """Open tasks of the organization whose deadline was before `cutoff`."""
        return await self._tasks(
            select(Task)
            .where(self.scope(Task, org_id, "all"), text(OPEN_LIVE_SQL), Task.deadline < cutoff)
            .order_by(Task.deadline)
            .limit(limit)
        )

    async def completed_runs(self, org_id: str, cutoff: datetime, limit: int) -> list[Run]:
        """Runs of the organization completed at `cutoff` or before (archived runs have the
        status `archived`)."""
        rows = await self.db.execute(
            select(Run)
            .where(
                self.scope(Run, org_id, "all"), Run.status == "complete", Run.completed_at <= cutoff
            )
            .order_by(Run.completed_at)
            .limit(limit)
        )
        return list(rows.scalars())
