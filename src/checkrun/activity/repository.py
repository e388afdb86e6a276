"""Every SQL statement of the activity feed, scoped by organization."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Insert,
    Select,
    Table,
    and_,
    event,
    false,
    func,
    insert,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session, SessionTransaction

from checkrun.activity.models import ActivityFeed as A
from checkrun.kit.filters import count_of
from checkrun.kit.pagination import PageParams
from checkrun.kit.repository import Repository, scope
from checkrun.members.models import Membership, User
from checkrun.runs.models import Run
from checkrun.tasks.models import Task, TaskOwner


@dataclass(frozen=True)
class FeedFilters:
    entity_type: str | None = None
    entity_id: str | None = None
    type: str | None = None
    verb: str | None = None
    actor_type: str | None = None
    actor_id: int | None = None
    actor_email: str | None = None
    source: str | None = None
    created_from: datetime | None = None
    created_until: datetime | None = None  # exclusive
    search: str | None = None
    field: str | None = None
    origin_type: str | None = None
    origin_id: str | None = None
    newest_first: bool = True


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _scope(kind: str, entity_id: str | None) -> ColumnElement[bool]:
    """`entity_type` names a scope: a run's, a task's or a template's whole history (its own
    entries and those filed under it), or the entries about one kind of thing."""
    if kind == "run":
        return A.run_id == entity_id if entity_id else A.run_id.is_not(None)
    if kind == "task":
        return A.task_id == entity_id if entity_id else A.task_id.is_not(None)
    if kind == "checklist":
        # The template's own history: not the processes launched from it (see origin).
        filed = A.checklist_id == entity_id if entity_id else A.checklist_id.is_not(None)
        return and_(filed, A.run_id.is_(None), A.task_id.is_(None))
    own = A.entity_type == kind
    return and_(own, A.entity_id == entity_id) if entity_id else own


def _runs_launched_from(org_id: str, parent_id: str | None) -> Select[Any]:
    parent = Run.parent_id == parent_id if parent_id else Run.parent_id.is_not(None)
    return select(Run.id).where(scope(Run, org_id, "all"), parent)


def _origin(org_id: str, kind: str, origin_id: str | None) -> ColumnElement[bool]:
    """Where the entry's process or task came from: the template it was launched from, the
    process (or task) that launched it, the template step the task was made from."""
    if kind == "checklist":
        launched = A.checklist_id == origin_id if origin_id else A.checklist_id.is_not(None)
        return and_(A.run_id.is_not(None), launched)
    if kind == "step":
        made = Task.step_id == origin_id if origin_id else Task.step_id.is_not(None)
        return A.task_id.in_(select(Task.id).where(scope(Task, org_id, "all"), made))
    if kind in ("run", "task"):
        return A.run_id.in_(_runs_launched_from(org_id, origin_id))
    return false()


def _actor_email(email: str) -> ColumnElement[bool]:
    """The stored email, or the member who has that email now."""
    members = select(User.id).where(func.lower(User.email) == email)
    return or_(
        func.lower(A.actor_email) == email, and_(A.actor_type == "user", A.actor_id.in_(members))
    )


def _visible_to(org_id: str, user_id: int) -> ColumnElement[bool]:
    """A member who is not an administrator sees what they did, and the history of processes
    they launched or own or hold a task in, and of tasks assigned to them or created by them."""
    mine = and_(TaskOwner.kind == "user", TaskOwner.ref == str(user_id))
    assigned = (
        select(TaskOwner.task_id)
        .join(Task, Task.id == TaskOwner.task_id)
        .where(scope(Task, org_id, "all"), mine)
    )
    held_runs = (
        select(Task.run_id)
        .join(TaskOwner, TaskOwner.task_id == Task.id)
        .where(scope(Task, org_id, "all"), Task.run_id.is_not(None), mine)
    )
    own_runs = select(Run.id).where(
        scope(Run, org_id, "all"), or_(Run.owner_id == user_id, Run.started_by == user_id)
    )
    created = select(Task.id).where(scope(Task, org_id, "all"), Task.starter_id == user_id)
    return or_(
        and_(A.actor_type == "user", A.actor_id == user_id),
        A.run_id.in_(own_runs),
        A.run_id.in_(held_runs),
        A.task_id.in_(assigned),
        A.task_id.in_(created),
    )


def _filtered(stmt: Select[Any], org_id: str, f: FeedFilters) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = [true()]
    if f.entity_type:
        conditions.append(_scope(f.entity_type, f.entity_id))
    elif f.entity_id:
        conditions.append(A.entity_id == f.entity_id)
    for column, value in (
        (A.type, f.type),
        (A.verb, f.verb),
        (A.actor_type, f.actor_type),
        (A.actor_id, f.actor_id),
        (A.source, f.source),
        (A.field, f.field),
    ):
        if value is not None:
            conditions.append(column == value)
    if f.actor_email:
        conditions.append(_actor_email(f.actor_email))
    if f.created_from is not None:
        conditions.append(A.created_at >= f.created_from)
    if f.created_until is not None:
        conditions.append(A.created_at < f.created_until)
    if f.search:
        pattern = _like(f.search)
        conditions.append(
            or_(
                func.lower(A.description).like(pattern, escape="\\"),
                func.lower(A.text).like(pattern, escape="\\"),
            )
        )
    if f.origin_type:
        conditions.append(_origin(org_id, f.origin_type, f.origin_id))
    return stmt.where(*conditions)


# In a session's `info`: the entries recorded in its transaction and not written yet.
_PENDING = "checkrun.activity.pending"


@cache
def _insert() -> Insert:
    return insert(cast(Table, A.__table__))


class ActivityRepository(Repository):
    def add(self, entry: dict[str, Any]) -> None:
        """An entry's row (every column but `id`), written with the transaction's others in
        one statement when it commits, or before the feed is read in it. An ORM object per
        entry cost each write a flush of its own."""
        self.db.info.setdefault(_PENDING, []).append(entry)

    async def write_pending(self) -> None:
        rows = self.db.info.pop(_PENDING, None)
        if rows:
            await self.db.execute(_insert(), rows)

    async def search(
        self, org_id: str, page: PageParams, filters: FeedFilters, viewer: int | None = None
    ) -> tuple[list[A], int]:
        """A page of the feed; `viewer` (a member id) limits it to what that member may see."""
        await self.write_pending()
        stmt = _filtered(select(A).where(self.scope(A, org_id)), org_id, filters)
        if viewer is not None:
            stmt = stmt.where(_visible_to(org_id, viewer))
        total = await count_of(self.db, stmt)
        if filters.newest_first:
            order = (A.created_at.desc(), A.id.desc())
        else:
            order = (A.created_at.asc(), A.id.asc())
        rows = await self.db.execute(stmt.order_by(*order).offset(page.offset).limit(page.per_page))
        return list(rows.scalars()), total

    async def members(self, org_id: str, user_ids: set[int]) -> dict[int, User]:
        """The members (of this organization) behind the entries' actor ids."""
        if not user_ids:
            return {}
        rows = await self.db.execute(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(self.scope(Membership, org_id), User.id.in_(user_ids))
        )
        return {u.id: u for u in rows.scalars()}


@event.listens_for(Session, "before_commit")
def _write_at_commit(session: Session) -> None:
    rows = session.info.pop(_PENDING, None)
    if rows:
        session.execute(_insert(), rows)


@event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
