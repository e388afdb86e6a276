"""`kit.bulk.insert_rows` stores exactly what SQLAlchemy's `insert(table)` stores, column by
column as the database holds it (read back as text, not through the ORM's types): date-times
in another zone, with and without microseconds, JSON, booleans, NULLs, the Python defaults of
columns left out. On both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

from sqlalchemy import Table, event, insert, select, text

from checkrun import migrate
from checkrun.db import make_engine, make_sessionmaker
from checkrun.kit.bulk import insert_rows
from checkrun.members.service import create_organization
from checkrun.tasks.models import Task, TaskOwner

TASKS = cast(Table, Task.__table__)
PLUS_FIVE = timezone(timedelta(hours=5))
# Set by the defaults of a row left out (its own id, now): not compared.
OWN = {"id", "increment_id", "created_at", "updated_at"}


def _task(org_id: str, number: int) -> dict[str, Any]:
    return {
        "org_id": org_id,
        "increment_id": number,
        "title": "Ünïcode ✓ \"quoted\" 'too'",
        "status": "active",
        "deadline": datetime(2026, 12, 4, 6, 0, tzinfo=PLUS_FIVE),
        "started_at": datetime(2026, 12, 4, 1, 2, 3, 450000, tzinfo=UTC),
        "completed_at": datetime(2026, 12, 4, 1, 2, 3),  # naive: taken as UTC
        "remind_at": None,
        "summary": None,
        "top_secret": True,
        "everyone_must_complete": False,
        "settings": {"a": [1, "x", None, 2.5], "b": {"c": True}},
    }


async def _stored(url: str) -> tuple[list[dict[str, Any]], list[Task]]:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as db:
            boot = await create_organization(db, "Bulk", "bulk@example.com")
            await db.execute(insert(TASKS), [_task(boot.org_id, 1)])
            await insert_rows(db, TASKS, [_task(boot.org_id, 2), _task(boot.org_id, 3)])
            await db.commit()
            raw = await db.execute(
                text("SELECT * FROM tasks WHERE org_id = :org ORDER BY increment_id"),
                {"org": boot.org_id},
            )
            rows = [dict(row) for row in raw.mappings()]
            loaded = await db.execute(
                select(Task).where(Task.org_id == boot.org_id).order_by(Task.increment_id)
            )
            return rows, list(loaded.scalars())
    finally:
        await engine.dispose()


def test_insert_rows_stores_what_insert_stores(database_url: str) -> None:
    migrate.upgrade(database_url)
    rows, tasks = asyncio.run(_stored(database_url))
    assert len(rows) == 3
    core, *bulk = rows
    for row in bulk:
        assert {k: v for k, v in row.items() if k not in OWN} == {
            k: v for k, v in core.items() if k not in OWN
        }
        assert row["id"] and row["id"] != core["id"]
        assert row["created_at"] is not None and row["updated_at"] is not None
    for task in tasks:
        assert task.deadline == datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
        assert task.started_at == datetime(2026, 12, 4, 1, 2, 3, 450000, tzinfo=UTC)
        assert task.settings == {"a": [1, "x", None, 2.5], "b": {"c": True}}
        assert task.top_secret is True and task.everyone_must_complete is False
        assert task.position == 1  # a Python default


def test_insert_rows_of_nothing_runs_no_statement(database_url: str) -> None:
    migrate.upgrade(database_url)
    seen: list[str] = []

    async def run() -> None:
        engine = make_engine(database_url)
        event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
        try:
            async with make_sessionmaker(engine)() as db:
                await insert_rows(db, cast(Table, TaskOwner.__table__), [])
                await db.execute(text("SELECT 1"))
        finally:
            await engine.dispose()

    asyncio.run(run())
    assert [s for s in seen if "task_owners" in s] == []
    assert seen  # the listener saw the SELECT
