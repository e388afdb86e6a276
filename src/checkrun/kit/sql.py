"""Small SQL constructs shared by repositories."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
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
