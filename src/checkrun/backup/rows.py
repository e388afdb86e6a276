"""Which rows belong to an organization, table by table, read from the schema itself: a table
added later is exported without anyone remembering to list it.

- the organization's own row, and every table with an `org_id`;
- the users that are its members (users are shared between organizations), and their
  passwords;
- a table without `org_id` through its foreign keys to tables that have one (a step through
  its template, a group's members through the group): a key to `users` counts only when the
  table has no other, so a shared user's rows in other organizations stay out.

`task_counts` is left out: the database's triggers write it again as the tasks go in.
`scheduler_jobs` holds the process's job leases, `idempotent_requests` a day of answers kept
for retries (by token, not by organization): no organization's data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Select, Table, false, or_, select

import checkrun.models  # noqa: F401 - every table in the metadata
from checkrun.db import Base

NOT_EXPORTED = frozenset({"task_counts", "scheduler_jobs", "idempotent_requests"})
ORGS, USERS, MEMBERSHIPS = "organizations", "users", "memberships"


def tables() -> list[Table]:
    """The organization's tables, parents before children (the order rows go back in)."""
    return [t for t in Base.metadata.sorted_tables if t.name not in NOT_EXPORTED]


def table(name: str) -> Table:
    return Base.metadata.tables[name]


def owned(t: Table, org_id: str) -> ColumnElement[bool]:
    """The condition selecting the organization's rows of `t`."""
    if t.name == ORGS:
        return t.c.id == org_id
    if "org_id" in t.c:
        return t.c.org_id == org_id
    if t.name == USERS:
        members = table(MEMBERSHIPS)
        return t.c.id.in_(select(members.c.user_id).where(members.c.org_id == org_id))
    keys = [fk for fk in t.foreign_keys if fk.column.table.name != USERS] or list(t.foreign_keys)
    if not keys:
        return false()
    return or_(
        *(fk.parent.in_(select(fk.column).where(owned(fk.column.table, org_id))) for fk in keys)
    )


def rows_of(t: Table, org_id: str) -> Select[Any]:
    return select(t).where(owned(t, org_id)).order_by(*t.primary_key.columns)


def encode(t: Table, row: dict[str, Any]) -> dict[str, Any]:
    """A row as JSON: timestamps as ISO 8601 (to the microsecond), the rest as stored."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def decode(t: Table, row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for column in t.c:
        value = out.get(column.name)
        if isinstance(value, str) and _is_timestamp(column.type):
            out[column.name] = datetime.fromisoformat(value)
    return out


def _is_timestamp(kind: Any) -> bool:
    return isinstance(getattr(kind, "impl_instance", kind), DateTime) or isinstance(kind, DateTime)
