"""The base of every repository: the session it works in, the organization it answers for when
it is built for one, and the one filter that keeps a statement inside an organization and away
from soft-deleted rows (a row of another organization is a 404, never a leak)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, Literal, TypeVar, TypeVarTuple, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Row,
    Select,
    Table,
    and_,
    bindparam,
    inspect,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from checkrun.db import Base
from checkrun.kit.bulk import insert_rows, python_default
from checkrun.kit.locking import locked, locked_row

M = TypeVar("M", bound=Base)
Ts = TypeVarTuple("Ts")

# Which rows of a soft-deletable model: the live ones, the archived ones, or both. A model
# without `deleted_at` has only live rows.
Rows = Literal["live", "archived", "all"]
# The organization of a statement built once (`functools.cache`) and run with
# `{ORG_ID.key: org_id}`: building a statement and its cache key costs more than running it.
ORG_ID: BindParameter[str] = bindparam("scope_org_id")
ROW_ID: BindParameter[Any] = bindparam("scope_row_id")


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


@cache
def by_id(model: type[Base], rows: Rows = "live", for_update: bool = False) -> Select[Any]:
    """The `model` row whose `id` is `ROW_ID`, in the organization `ORG_ID`: built once, so a
    read by id costs neither building nor a cache key."""
    stmt = select(model).where(scope(model, ORG_ID, rows), getattr(model, "id") == ROW_ID)  # noqa: B009
    return stmt.with_for_update(of=model) if for_update else stmt


class Repository:
    """Holds the session (and, for a repository built per organization, its id)."""

    def __init__(self, db: AsyncSession, org_id: str | None = None) -> None:
        self.db = db
        self.org_id = org_id

    def scope(
        self, model: type[Base], org_id: str | None = None, rows: Rows = "live"
    ) -> ColumnElement[bool]:
        """`scope` in `org_id`, or in the organization this repository was built for."""
        return scope(model, self._org(org_id), rows)

    def _org(self, org_id: str | None) -> str:
        org = org_id if org_id is not None else self.org_id
        if org is None:
            raise TypeError(f"{type(self).__name__} was built without an organization")
        return org

    async def one(
        self, model: type[M], row_id: Any, org_id: str | None = None, rows: Rows = "live"
    ) -> M | None:
        """`model`'s row `row_id` in the organization, None when it is not there (or not of
        `rows`)."""
        params = {ORG_ID.key: self._org(org_id), ROW_ID.key: row_id}
        found: M | None = (await self.db.execute(by_id(model, rows), params)).scalar_one_or_none()
        return found

    async def locked_one(
        self, model: type[M], row_id: Any, org_id: str | None = None, rows: Rows = "live"
    ) -> M | None:
        """`one` under the row's lock (`kit.locking`), held to the end of the transaction."""
        params = {ORG_ID.key: self._org(org_id), ROW_ID.key: row_id}
        stmt, for_update = by_id(model, rows), by_id(model, rows, for_update=True)
        return await locked(self.db, model, stmt, row_id, params, for_update)

    async def locked_with(
        self,
        model: type[Base],
        build: Callable[[bool], Select[*Ts]],
        row_id: Any,
        org_id: str | None = None,
    ) -> Row[*Ts] | None:
        """`locked_one` for a statement that reads more along with the row (`locked_row`):
        `build(for_update)` gives it by `ORG_ID` and `ROW_ID`, built once."""
        params = {ORG_ID.key: self._org(org_id), ROW_ID.key: row_id}
        return await locked_row(self.db, model, build(False), row_id, params, build(True))

    async def insert_attached(self, obj: Base) -> None:
        """A new object inserted in one statement (`kit.bulk`) and then attached to the session
        as a row it read: persistent, nothing pending. A flush of one new object, with its
        change tracking, costs about twice the statement. Columns left unset get their Python
        default (or NULL) on the object too, so nothing of it is expired; no flush hook sees
        it."""
        state = inspect(obj)
        values = {}
        for attr in state.mapper.column_attrs:
            if attr.key not in state.dict:
                setattr(obj, attr.key, python_default(attr.columns[0]))
            values[attr.columns[0].key] = state.dict[attr.key]
        await insert_rows(self.db, cast(Table, state.mapper.local_table), [values])
        make_transient_to_detached(obj)
        self.db.add(obj)
