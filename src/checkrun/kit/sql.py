"""Small SQL constructs shared by repositories."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class no_index(FunctionElement[Any]):  # noqa: N801 - reads like the SQL it stands for
    """The column itself, except that SQLite's planner may not use an index for it there.

    SQLite plans from one index per table: given `tasks.org_id = ?` next to `tasks.id IN
    (assignee's tasks)` it scans the whole organization. Written `+tasks.org_id` there, it
    starts from the assignee index instead. PostgreSQL plans by cost and gets the column as is.
    """

    inherit_cache = True

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(no_index)
def _as_is(element: no_index, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(no_index, "sqlite")
def _unary_plus(element: no_index, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.clauses, **kw)


class sort_key(FunctionElement[Any]):  # noqa: N801 - reads like the SQL it stands for
    """A sort column that PostgreSQL may not read in index order.

    For a short list (one assignee's tasks) under `LIMIT`, PostgreSQL will otherwise walk the
    organization's whole `(org_id, created_at)` index backwards hoping to meet that assignee's
    rows soon; when they are the oldest it reads nearly every task. As `COALESCE(col, col)` it
    fetches the few rows first and sorts them. SQLite already starts from the assignee there.
    """

    inherit_cache = True

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(sort_key)
def _key_as_is(element: sort_key, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(sort_key, "postgresql")
def _coalesced(element: sort_key, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"COALESCE({column}, {column})"


def insert_ignoring_conflicts(
    db: AsyncSession, model: type[Any], values: dict[str, Any], keys: list[str]
) -> Executable:
    """`INSERT ... ON CONFLICT (keys) DO NOTHING` in this session's dialect: a duplicate is
    skipped without failing (and so without rolling back) the transaction it is part of."""
    dialect = db.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(model).values(**values).on_conflict_do_nothing(index_elements=keys)


class json_object_agg(FunctionElement[Any]):  # noqa: N801 - reads like the SQL it stands for
    """The rows' (key, JSON value) pairs as one JSON object: an aggregate, so a correlated
    subquery reads many rows per outer row in one statement. Empty is NULL or `{}`."""

    inherit_cache = True
    type = JSON()

    def __init__(self, key: Any, value: Any) -> None:
        super().__init__(key, value)


@compiles(json_object_agg)
def _json_object_agg(element: json_object_agg, compiler: SQLCompiler, **kw: Any) -> str:
    key, value = (compiler.process(c, **kw) for c in element.clauses)
    return f"json_object_agg({key}, {value})"


@compiles(json_object_agg, "sqlite")
def _json_group_object(element: json_object_agg, compiler: SQLCompiler, **kw: Any) -> str:
    key, value = (compiler.process(c, **kw) for c in element.clauses)
    # SQLite keeps JSON as text: json() makes it a value of the object, not a string.
    return f"json_group_object({key}, json({value}))"


async def plain_rows(
    db: AsyncSession, stmt: Executable, params: Mapping[str, Any] | None = None
) -> Sequence[Sequence[Any]]:
    """The rows of a statement of plain columns (no ORM entity), through the session's
    connection: the ORM's result layer costs a page read about a fifth of its statement.
    Pending changes are flushed first, as `db.execute` would."""
    if db.new or db.dirty or db.deleted:
        await db.flush()
    connection = await db.connection()
    return (await connection.execute(stmt, params)).all()
