"""The jobs time does on its own: reminders, expiring tasks, and the organization's
auto-complete and auto-archive settings. Importing this module registers them.

Completions and archives go through the same services as a person's (tasks/completion.py,
runs/service.py) with the system as the actor, so run completion, webhooks and the activity
feed follow as for any other. Each row is locked and looked at again before it changes: a
person may have changed it since it was read."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.config import Settings
from checkrun.kit.errors import AppError
from checkrun.orgs.schemas import DEFAULTS
from checkrun.runs.repository import RunsRepository
from checkrun.runs.service import archive_locked
from checkrun.scheduler import reminders
from checkrun.scheduler.registry import Job, register
from checkrun.scheduler.repository import SchedulerRepository
from checkrun.tasks import counts
from checkrun.tasks.completion import complete_by_system, lock_task
from checkrun.tasks.models import Task
from checkrun.tasks.repository import OPEN


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day when it
    is shorter)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def period_before(moment: datetime, period: dict[str, Any]) -> datetime:
    unit, value = str(period.get("unit", "weeks")), int(period.get("value", 52))
    if unit == "months":
        return months_before(moment, value)
    if unit == "years":
        return months_before(moment, 12 * value)
    return moment - timedelta(**{unit if unit in ("days", "weeks") else "weeks": value})


def _setting(prefs: dict[str, Any], key: str) -> Any:
    return prefs.get(key, DEFAULTS[key])


async def _complete(db: AsyncSession, task: Task, due_before: datetime, inclusive: bool) -> bool:
    """Completes `task` if, locked, it is still open with a deadline this early."""
    try:
        task = await lock_task(db, task)
    except AppError:  # deleted meanwhile
        return False
    deadline = task.deadline
    if task.deleted_at is not None or task.status not in OPEN or deadline is None:
        return False
    if deadline > due_before or (deadline == due_before and not inclusive):
        return False
    # Tallyfy records an expiring task completed by its deadline as expired (not approved).
    expired = False if task.task_type == "expiring" else None
    return await complete_by_system(db, task, expired)


async def expire_tasks(db: AsyncSession, moment: datetime, settings: Settings) -> int:
    """Expiring tasks (and auto-send email tasks) complete at their deadline if nobody
    acknowledged them."""
    tasks = await SchedulerRepository(db).expiring_due(moment, settings.scheduler_batch_size)
    for task in tasks:
        await _complete(db, task, moment, inclusive=True)
    return len(tasks)


async def auto_complete(db: AsyncSession, moment: datetime, settings: Settings) -> int:
    """`auto_complete_tasks`: open tasks more than `auto_complete_task_months` months past
    their deadline are completed by the system."""
    repo = SchedulerRepository(db)
    left = settings.scheduler_batch_size
    for org_id, prefs in (await repo.all_preferences()).items():
        if not _setting(prefs, "auto_complete_tasks") or left <= 0:
            continue
        cutoff = months_before(moment, int(_setting(prefs, "auto_complete_task_months")))
        for task in await repo.overdue_since(org_id, cutoff, left):
            await _complete(db, task, cutoff, inclusive=False)
            left -= 1
    return settings.scheduler_batch_size - left


async def auto_archive(db: AsyncSession, moment: datetime, settings: Settings) -> int:
    """`auto_archive`: completed processes are archived `auto_archive_processes_after` after
    their completion, as `DELETE /runs/{id}` archives them."""
    repo = SchedulerRepository(db)
    left = settings.scheduler_batch_size
    for org_id, prefs in (await repo.all_preferences()).items():
        if not _setting(prefs, "auto_archive") or left <= 0:
            continue
        cutoff = period_before(moment, _setting(prefs, "auto_archive_processes_after"))
        for run in await repo.completed_runs(org_id, cutoff, left):
            locked = await RunsRepository(db).lock(org_id, run.id)
            if (
                locked is not None
                and locked.status == "complete"
                and locked.completed_at is not None
                and locked.completed_at <= cutoff
            ):
                await archive_locked(db, locked, None)
            left -= 1
    return settings.scheduler_batch_size - left


# Expiring tasks first: one completed at its deadline is not reminded as overdue.
register(Job("expiring_tasks", expire_tasks))
register(Job("reminders", reminders.run))
register(Job("auto_complete_tasks", auto_complete))
register(Job("auto_archive_processes", auto_archive))
register(Job("fold_task_counts", counts.fold_due))
