"""Many new rows of one table in one statement, whose one parameter is the rows as JSON.

SQLAlchemy's `insert(table)` with a list of rows binds every value of every row, each through
its type's processor: a launch's twenty tasks of thirty-odd columns cost about 700 Python
calls. Here the rows are encoded at once (pydantic-core, outside Python) and the database
unpacks them: PostgreSQL with `json_populate_recordset` (each value read as its column's
type), SQLite with `json_each`. What JSON does not carry as the column stores it is processed
first, by the column type's own processor: date-times (naive UTC; on SQLite, SQLAlchemy's text
format, which comparisons with bound parameters rely on) and, on SQLite, JSON columns (their
text). One difference: PostgreSQL stores a JSON column's None as SQL NULL, where
`insert(table)` stores JSON `null`; both read back as None."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic_core import to_json
from sqlalchemy import JSON, Column, DateTime, Table, TextClause, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeDecorator, TypeEngine

_ROWS = "bulk_rows"


async def insert_rows(db: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """`rows` (each with the same keys: column names) inserted in one statement. A column the
    rows leave out gets its Python default, as `insert(table)` gives it, or the database's.
    No ORM hook sees them."""
    if not rows:
        return
    dialect = db.get_bind().dialect
    plan = _plan(table, tuple(rows[0]), dialect)
    encoded = [plan.row(row) for row in rows] if plan.changes_rows else rows
    params = {_ROWS: to_json(encoded).decode()}
    await db.execute(_statement(table, plan.columns, dialect.name), params)


@dataclass(frozen=True)
class _Plan:
    columns: tuple[str, ...]  # those given, then those with a Python default
    defaults: dict[str, Column[Any]]  # the columns not given that have a Python default
    processors: dict[str, Callable[[Any], Any]]

    @property
    def changes_rows(self) -> bool:
        return bool(self.defaults or self.processors)

    def row(self, given: dict[str, Any]) -> dict[str, Any]:
        out = dict(given)
        for key, column in self.defaults.items():
            out[key] = python_default(column)
        for key, process in self.processors.items():
            out[key] = process(out[key])
        return out


def python_default(column: Any) -> Any:
    """What `insert(table)` would give the column (a table's `Column`) when a row leaves it
    out (None: no default of its own, the database's then)."""
    default: Any = column.default
    if default is None:
        return None
    if default.is_callable:
        return default.arg(None)  # SQLAlchemy wraps a callable to take the execution context
    if default.is_scalar:
        return default.arg
    raise TypeError(f"{column} has a default that is not a Python value")


@cache
def _plan(table: Table, given: tuple[str, ...], dialect: Dialect) -> _Plan:
    defaults = {c.key: c for c in table.columns if c.key not in given and c.default is not None}
    columns = (*given, *defaults)
    processors: dict[str, Callable[[Any], Any]] = {}
    for key in columns:
        kind = table.columns[key].type.dialect_impl(dialect)
        if _processed(kind, dialect) and (process := kind.bind_processor(dialect)):
            processors[key] = process
    return _Plan(columns, defaults, processors)


def _processed(kind: TypeEngine[Any], dialect: Dialect) -> bool:
    base = kind.impl_instance if isinstance(kind, TypeDecorator) else kind
    if isinstance(base, DateTime):
        return True
    return isinstance(base, JSON) and dialect.name != "postgresql"


@cache
def _statement(table: Table, columns: tuple[str, ...], dialect: str) -> TextClause:
    names = ", ".join(f'"{name}"' for name in columns)
    if dialect == "postgresql":
        rows = f"json_populate_recordset(NULL::{table.name}, CAST(:{_ROWS} AS json))"
        return text(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {rows}")
    values = ", ".join(f"json_extract(value, '$.{name}')" for name in columns)
    return text(f"INSERT INTO {table.name} ({names}) SELECT {values} FROM json_each(:{_ROWS})")
