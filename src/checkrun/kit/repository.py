"""The base of every repository: the session it works in, the organization it answers for when
it is built for one, and the one filter that keeps a statement inside an organization and away
from soft-deleted rows (a row of another organization is a 404, never a leak)."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import BindParameter, ColumnElement, and_, bindparam
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.db import Base

# Which rows of a soft-deletable model: the live ones, the archived ones, or both. A model
# without `deleted_at` has only live rows.
Rows = Literal["live", "archived", "all"]
# The organization of a statement built once (`functools.cache`) and run with
# `{ORG_ID.key: org_id}`: building a statement and its cache key costs more than running it.
ORG_ID: BindParameter[str] = bindparam("scope_org_id")


def scope(
    model: type[Base], org_id: str | BindParameter[str], rows: Rows = "live"
) -> ColumnElement[bool]:
    """`model`'s rows in `org_id` (or in the organization `ORG_ID` is given at run time): live
    ones (the default), archived ones, or all."""
    in_org: ColumnElement[bool] = getattr(model, "org_id") == org_id  # noqa: B009 - any model
    deleted: Any = getattr(model, "deleted_at", None)
    if deleted is None:
        if rows == "archived":
            raise TypeError(f"{model.__name__} has no soft delete: no row is archived")
        return in_org
    if rows == "all":
        return in_org
    return and_(in_org, deleted.is_(None) if rows == "live" else deleted.is_not(None))


class Repository:
    """Holds the session (and, for a repository built per organization, its id)."""

    def __init__(self, db: AsyncSession, org_id: str | None = None) -> None:
        self.db = db
        self.org_id = org_id

    def scope(
        self, model: type[Base], org_id: str | None = None, rows: Rows = "live"
    ) -> ColumnElement[bool]:
        """`scope` in `org_id`, or in the organization this repository was built for."""
        org = org_id if org_id is not None else self.org_id
        if org is None:
            raise TypeError(f"{type(self).__name__} was built without an organization")
        return scope(model, org, rows)
