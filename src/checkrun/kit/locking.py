"""Row locks that serialise the writers of one row until the transaction ends, on both databases.

PostgreSQL takes `SELECT ... FOR UPDATE`. SQLite has one writer at a time and pysqlite opens a
transaction only at the first write, so a no-op `UPDATE` of the row as the first write takes the
database's write lock (waiting on busy_timeout behind the current writer); every read after it
sees what the previous writer committed. Either way the row is read again after the lock with
`populate_existing`, so an object the session loaded before is refreshed in place rather than
kept stale.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, text
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


async def locked(db: AsyncSession, model: type[T], stmt: Select[Any], row_id: Any) -> T | None:
    """`stmt` (a select of the `model` row whose primary key `id` is `row_id`) run under that
    row's lock; None when the row is gone."""
    if db.get_bind().dialect.name == "sqlite":
        # Raw SQL, so that no `onupdate` column (updated_at) changes.
        table = model.__tablename__  # type: ignore[attr-defined]
        await db.execute(text(f"UPDATE {table} SET id = id WHERE id = :id"), {"id": row_id})
    else:
        stmt = stmt.with_for_update()
    result = await db.execute(stmt.execution_options(populate_existing=True))
    found: T | None = result.scalar_one_or_none()
    return found
