"""Every database row that belongs to one organization, read straight from SQL: to prove that
nothing of it changed while someone else was knocking on the API."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from sqlalchemy import ColumnElement, Table, or_, select

import checkrun.models  # noqa: F401 - registers every table on Base.metadata
from checkrun.db import Base, make_engine

Rows = dict[str, list[tuple[str, ...]]]
HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def _tables() -> dict[str, Table]:
    return {t.name: t for t in Base.metadata.sorted_tables}


def _member_ids(tables: dict[str, Table], org_id: str) -> Any:
    memberships = tables["memberships"]
    return select(memberships.c.user_id).where(memberships.c.org_id == org_id)


def _scope(table: Table, tables: dict[str, Table], org_id: str) -> ColumnElement[bool] | None:
    """Which rows of `table` are the organization's: its own column, else its parents'."""
    if table.name == "organizations":
        return table.c.id == org_id
    if "org_id" in table.c:
        return table.c.org_id == org_id
    if table.name == "users":
        return table.c.id.in_(_member_ids(tables, org_id))
    scoped = [fk for fk in table.foreign_keys if "org_id" in fk.column.table.c]
    if scoped:
        return or_(
            *(
                fk.parent.in_(select(fk.column).where(fk.column.table.c.org_id == org_id))
                for fk in scoped
            )
        )
    # Rows hanging off users only (passwords): those of the organization's members.
    users = [fk for fk in table.foreign_keys if fk.column.table.name == "users"]
    if users:
        return or_(*(fk.parent.in_(_member_ids(tables, org_id)) for fk in users))
    return None


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return repr(value)


def org_rows(database_url: str, org_id: str) -> Rows:
    tables = _tables()

    async def work() -> Rows:
        engine = make_engine(database_url)
        try:
            async with engine.connect() as conn:
                found: Rows = {}
                for name, table in tables.items():
                    where = _scope(table, tables, org_id)
                    if where is None:
                        continue
                    result = await conn.execute(select(table).where(where))
                    found[name] = sorted(tuple(_text(v) for v in row) for row in result)
                return found
        finally:
            await engine.dispose()

    return asyncio.run(work())


def changes(before: Rows, after: Rows, limit: int = 5) -> dict[str, dict[str, list[Any]]]:
    """Per table: the rows that went away and the rows that appeared (a change is both)."""
    out: dict[str, dict[str, list[Any]]] = {}
    for name in sorted(set(before) | set(after)):
        old, new = set(before.get(name, [])), set(after.get(name, []))
        if old != new:
            out[name] = {"gone": sorted(old - new)[:limit], "new": sorted(new - old)[:limit]}
    return out


def hex_ids(rows: Rows) -> set[str]:
    """Every 32-hex id that appears in the organization's rows."""
    return {
        value.strip("'")
        for table in rows.values()
        for row in table
        for value in row
        if HEX_ID.match(value.strip("'"))
    }
