"""Shared list filters: the `archived` switch and case-insensitive text search."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func
from sqlalchemy.orm import InstrumentedAttribute


def archived_filter(stmt: Select[Any], column: Any, archived: str | None) -> Select[Any]:
    """Default: live rows only; `only`: archived only; any other truthy value: both."""
    value = (archived or "").strip().lower()
    if value == "only":
        return stmt.where(column.is_not(None))
    if value in ("", "false", "0", "no"):
        return stmt.where(column.is_(None))
    return stmt


def text_filter(
    stmt: Select[Any], column: InstrumentedAttribute[Any], q: str | None
) -> Select[Any]:
    if not q or not q.strip():
        return stmt
    escaped = q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return stmt.where(func.lower(column).like(pattern, escape="\\"))


async def count_of(db: Any, stmt: Select[Any]) -> int:
    total = await db.execute(stmt.with_only_columns(func.count()).order_by(None))
    return int(total.scalar_one())
