"""Exact task totals read from `task_counts` (rows of +n/-n the database's triggers insert with
every change) instead of counting an organization's or an assignee's whole history."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from checkrun.tasks.models import TaskCount

ORG = "org"  # an organization's tasks
RUN = "run"  # an organization's runs
# More change rows than this under one key: the reader folds them into one row per
# (status, live), so that reading stays a few rows however long the history.
FOLD_AFTER = 64
SQLITE_BUSY_MS = 30000  # what checkrun.db sets on every SQLite connection


async def total(
    db: AsyncSession,
    org_id: str,
    kind: str,
    ref: str,
    statuses: Iterable[str] | None,
    live: bool | None,
) -> int:
    """Tasks counted under (org, kind, ref) whose status is one of `statuses` (None: any) and
    whose live flag is `live` (None: either)."""
    key = (TaskCount.org_id == org_id, TaskCount.kind == kind, TaskCount.ref == ref)
    rows = (
        await db.execute(
            select(TaskCount.status, TaskCount.live, func.sum(TaskCount.n), func.count())
            .where(*key)
            .group_by(TaskCount.status, TaskCount.live)
        )
    ).all()
    wanted = None if statuses is None else set(statuses)
    answer = 0
    for status, is_live, n, _ in rows:
        if (wanted is None or status in wanted) and (live is None or bool(is_live) == live):
            answer += int(n or 0)
    if sum(int(r[3]) for r in rows) > FOLD_AFTER + len(rows):
        await _fold(db, org_id, kind, ref)
    return answer


async def _fold(db: AsyncSession, org_id: str, kind: str, ref: str) -> None:
    """Replaces a key's rows by their sums, in a transaction of its own (the request's may be
    read-only). The deleted rows are the ones summed (DELETE ... RETURNING): two readers
    folding at once each re-add exactly what they removed, so totals stay exact."""
    engine = db.bind
    if not isinstance(engine, AsyncEngine):
        return
    sqlite = engine.dialect.name == "sqlite"
    async with engine.connect() as conn:
        try:
            if sqlite:
                # This request may hold SQLite's write lock itself: never wait for it.
                await conn.exec_driver_sql("PRAGMA busy_timeout = 0")
            await _fold_rows(conn, org_id, kind, ref)
            await conn.commit()
        except OperationalError:
            await conn.rollback()  # busy: a later reader folds
        finally:
            if sqlite:
                await conn.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
                await conn.commit()


async def _fold_rows(conn: AsyncConnection, org_id: str, kind: str, ref: str) -> None:
    gone = await conn.execute(
        delete(TaskCount)
        .where(TaskCount.org_id == org_id, TaskCount.kind == kind, TaskCount.ref == ref)
        .returning(TaskCount.status, TaskCount.live, TaskCount.n)
    )
    sums: dict[tuple[str, bool], int] = {}
    for status, is_live, n in gone.all():
        sums[(status, bool(is_live))] = sums.get((status, bool(is_live)), 0) + int(n)
    rows = [
        {"org_id": org_id, "kind": kind, "ref": ref, "status": s, "live": lv, "n": n}
        for (s, lv), n in sorted(sums.items())
        if n
    ]
    if rows:
        await conn.execute(insert(TaskCount), rows)
