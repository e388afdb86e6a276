"""Row locks that serialise the writers of one row until the transaction ends, on both databases.

PostgreSQL takes `SELECT ... FOR UPDATE`. SQLite has one writer at a time and pysqlite opens a
transaction only at the first write, so a no-op `UPDATE` of the row as the first write takes the
database's write lock (waiting on busy_timeout behind the current writer); every read after it
sees what the previous writer committed. The second row a transaction locks needs no `UPDATE`:
the first one's holds every row. Either way the row is read again after the lock with
`populate_existing`, so an object the session loaded before is refreshed in place rather than
kept stale. A row locked once stays locked to the end of the transaction: asking again (a run
whose task was just completed, whose status follows) costs no statement.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar, TypeVarTuple, cast

from sqlalchemy import Row, Select, TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

T = TypeVar("T")
M = TypeVar("M")
Ts = TypeVarTuple("Ts")
_REFRESH = {"populate_existing": True}


@cache
def _touch(table: str) -> TextClause:
    # Raw SQL, so that no `onupdate` column (updated_at) changes.
    return text(f"UPDATE {table} SET id = id WHERE id = :id")


def transaction_memo(db: AsyncSession, key: str, factory: Callable[[], M]) -> M:
    """An object kept in the session for its current transaction only (a new one, from
    `factory`, once another transaction began): what a statement of this transaction learnt
    is not taken for true in the next."""
    transaction = db.sync_session.get_transaction()
    memo = db.info.get(key)
    if memo is None or memo[0] is not transaction:
        memo = db.info[key] = (transaction, factory())
    kept: M = memo[1]
    return kept


def _held(db: AsyncSession) -> set[tuple[str, Any]]:
    """The rows this session's current transaction has locked (none outside a transaction)."""
    if db.sync_session.get_transaction() is None:
        return set()
    return transaction_memo(db, "locked_rows", set)


def holds(db: AsyncSession, table: str, row_id: Any) -> bool:
    """Whether this session's current transaction holds the row's lock."""
    return (table, row_id) in _held(db)


def note_locked(db: AsyncSession, table: str, row_id: Any) -> None:
    """A row this transaction just locked by writing it (an `UPDATE` of its own)."""
    _held(db).add((table, row_id))


async def locked(
    db: AsyncSession,
    model: type[T],
    stmt: Select[Any],
    row_id: Any,
    params: dict[str, Any] | None = None,
    for_update: Select[Any] | None = None,
) -> T | None:
    """`stmt` (a select of the `model` row whose primary key `id` is `row_id`, run with
    `params`) run under that row's lock; None when the row is gone. `for_update` is `stmt`'s
    `FOR UPDATE OF` form when it is built once beforehand."""
    table = model.__tablename__  # type: ignore[attr-defined]
    if (table, row_id) in _held(db):
        # Nobody else can have changed it since: the session's copy is current.
        kept: T | None = db.identity_map.get(identity_key(model, row_id))
        if kept is not None:
            return kept
    row = await locked_row(db, model, stmt, row_id, params, for_update)
    return None if row is None else cast(T, row[0])


async def locked_row(
    db: AsyncSession,
    model: type[Any],
    stmt: Select[*Ts],
    row_id: Any,
    params: dict[str, Any] | None = None,
    for_update: Select[*Ts] | None = None,
) -> Row[*Ts] | None:
    """`locked`, answering the whole first row of `stmt`, whose first entity is the `model`
    row locked: what `stmt` joins in (read, not locked) comes along in the same statement."""
    table = model.__tablename__
    if (table, row_id) in _held(db):
        held: Row[*Ts] | None = (await db.execute(stmt, params)).unique().one_or_none()
        return held
    if db.get_bind().dialect.name == "sqlite":
        if not _held(db):  # else this transaction holds the database's write lock already
            await db.execute(_touch(table), {"id": row_id})
    else:
        # `of`: the row's own table, when `stmt` joins others in (an eager load, a context).
        stmt = stmt.with_for_update(of=model) if for_update is None else for_update
    result = await db.execute(stmt, params, execution_options=_REFRESH)
    found: Row[*Ts] | None = result.unique().one_or_none()
    if found is not None:
        _held(db).add((table, row_id))  # the transaction exists now
    return found
