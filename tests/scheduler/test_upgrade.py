"""Upgrading a database with open tasks: those ahead get their next reminder, those already
late count as reminded (no flood of overdue reminders at the upgrade)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import column, select, table, text

from checkrun import migrate
from checkrun.db import UTCDateTime, make_engine, make_sessionmaker
from checkrun.kit.clock import now
from checkrun.members.service import create_organization

TASK_SQL = (
    "INSERT INTO tasks (id, org_id, increment_id, title, task_type, status, position, deadline, "
    "everyone_must_complete, can_complete_only_assignees, prevent_guest_comment, max_assignable,"
    " top_secret, created_at, updated_at, archived_with_run, hidden_by_rule, settings) VALUES "
    "(:id, :org, 1, 'T', 'task', :status, 1, :deadline, false, false, false, 0, false, :at, :at,"
    " false, false, '{}')"
)


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


async def _seed(url: str) -> None:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as db:
            boot = await create_organization(db, "Old org", "old@example.com")
            await db.commit()
        moment = now()
        async with engine.begin() as conn:
            for task_id, status, deadline in (
                ("a" * 32, "active", moment + timedelta(days=3)),
                ("b" * 32, "active", moment - timedelta(days=3)),
                ("c" * 32, "completed", moment + timedelta(days=3)),
            ):
                await conn.execute(
                    text(TASK_SQL),
                    {
                        "id": task_id,
                        "org": boot.org_id,
                        "status": status,
                        "deadline": _naive(deadline),
                        "at": _naive(moment),
                    },
                )
    finally:
        await engine.dispose()


async def _read(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            tasks = table(
                "tasks",
                column("id"),
                *(
                    column(c, UTCDateTime())
                    for c in ("deadline", "remind_at", "reminded_soon_for", "reminded_overdue_for")
                ),
            )
            rows = await conn.execute(select(*tasks.c))
            return {row[0][0]: tuple(row[1:]) for row in rows}
    finally:
        await engine.dispose()


def test_upgrade_schedules_open_tasks_without_reminding_old_ones(database_url: str) -> None:
    command.upgrade(migrate.alembic_config(database_url), "0008")
    asyncio.run(_seed(database_url))
    migrate.upgrade(database_url)
    tasks = asyncio.run(_read(database_url))
    deadline, remind_at, soon, overdue = tasks["a"]
    assert (remind_at, soon, overdue) == (deadline - timedelta(hours=24), None, None)
    deadline, remind_at, soon, overdue = tasks["b"]
    assert (remind_at, soon, overdue) == (None, deadline, deadline)
    assert tasks["c"][1:] == (None, None, None)
