from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from checkrun.guests.models import Guest
from checkrun.kit.filters import count_of, text_filter
from checkrun.kit.pagination import PageParams
from checkrun.kit.repository import Repository, scope
from checkrun.members.models import Membership, User
from checkrun.tasks.models import Task, TaskOwner

SORTS: dict[str, list[Any]] = {
    "created_at": [Guest.created_at.asc(), Guest.id.asc()],
    "-created_at": [Guest.created_at.desc(), Guest.id.desc()],
    "updated_at": [Guest.updated_at.asc(), Guest.id.asc()],
    "-updated_at": [Guest.updated_at.desc(), Guest.id.desc()],
    "email": [Guest.email.asc(), Guest.id.asc()],
    "-email": [Guest.email.desc(), Guest.id.desc()],
    "first_name": [func.lower(Guest.first_name).asc(), Guest.id.asc()],
    "-first_name": [func.lower(Guest.first_name).desc(), Guest.id.desc()],
    "last_name": [func.lower(Guest.last_name).asc(), Guest.id.asc()],
    "-last_name": [func.lower(Guest.last_name).desc(), Guest.id.desc()],
}
DEFAULT_SORT = "created_at"


@dataclass(frozen=True)
class GuestFilters:
    q: str | None = None
    sort: str | None = None


@dataclass(frozen=True)
class GuestTaskCounts:
    email: str
    assigned: int
    completed: int
    last_completed_at: Any
    one_off_completed: int
    last_one_off_completed_at: Any


def _org_tasks(org_id: str) -> Select[Any]:
    return select(Task.id).where(scope(Task, org_id, "all"))


class GuestsRepository(Repository):
    async def by_email(self, org_id: str, email: str, removed: bool = False) -> Guest | None:
        """The organization's guest with this address; removed ones only when asked."""
        stmt = select(Guest).where(
            self.scope(Guest, org_id, "all" if removed else "live"),
            Guest.email == email.strip().lower(),
        )
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def by_emails(self, org_id: str, emails: list[str]) -> dict[str, Guest]:
        """Every guest row (removed ones too) of these lowercased addresses."""
        if not emails:
            return {}
        rows = await self.db.execute(
            select(Guest).where(self.scope(Guest, org_id, "all"), Guest.email.in_(emails))
        )
        return {g.email: g for g in rows.scalars()}

    async def by_code(self, org_id: str, code: str) -> Guest | None:
        return (
            await self.db.execute(
                select(Guest).where(self.scope(Guest, org_id), Guest.guest_code == code)
            )
        ).scalar_one_or_none()

    async def by_link_code(self, code: str) -> Guest | None:
        """The guest whose link ends in `code`, in whichever organization (codes are unique
        across them): the guest's page has no organization in its address."""
        return (
            await self.db.execute(
                select(Guest).where(Guest.guest_code == code, Guest.deleted_at.is_(None))
            )
        ).scalar_one_or_none()

    async def search(
        self, org_id: str, page: PageParams, filters: GuestFilters
    ) -> tuple[list[Guest], int]:
        stmt = select(Guest).where(self.scope(Guest, org_id))
        stmt = text_filter(stmt, Guest.email, filters.q)
        total = await count_of(self.db, stmt)
        order = SORTS.get(filters.sort or DEFAULT_SORT, SORTS[DEFAULT_SORT])
        rows = await self.db.execute(stmt.order_by(*order).offset(page.offset).limit(page.per_page))
        return list(rows.scalars()), total

    async def insert(self, values: dict[str, Any]) -> Guest | None:
        """Adds a guest; None when a concurrent request added the same address first."""
        dialect = self.db.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        added = await self.db.execute(
            insert(Guest)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["org_id", "email"])
            .returning(Guest.id)
        )
        guest_id = added.scalar_one_or_none()
        return None if guest_id is None else await self.db.get(Guest, guest_id)

    async def member_emails(self, org_id: str, emails: list[str]) -> set[str]:
        """Which of these lowercased addresses belong to members of the organization."""
        if not emails:
            return set()
        rows = await self.db.execute(
            select(func.lower(User.email))
            .join(Membership, Membership.user_id == User.id)
            .where(self.scope(Membership, org_id), func.lower(User.email).in_(emails))
        )
        return set(rows.scalars())

    async def task_counts(self, org_id: str, emails: list[str]) -> dict[str, GuestTaskCounts]:
        """Per address: live tasks assigned, and how many of them are completed (and when)."""
        if not emails:
            return {}
        done = Task.status == "completed"
        one_off_done = and_(done, Task.step_id.is_(None))
        rows = await self.db.execute(
            select(
                TaskOwner.ref,
                func.count(Task.id),
                func.count(Task.id).filter(done),
                func.max(Task.completed_at).filter(done),
                func.count(Task.id).filter(one_off_done),
                func.max(Task.completed_at).filter(one_off_done),
            )
            .join(Task, Task.id == TaskOwner.task_id)
            .where(
                TaskOwner.kind == "guest",
                TaskOwner.ref.in_(emails),
                self.scope(Task, org_id),
            )
            .group_by(TaskOwner.ref)
        )
        return {row[0]: GuestTaskCounts(*row) for row in rows.all()}

    async def delete(self, guest: Guest) -> None:
        await self.db.delete(guest)

    async def detach_from_tasks(self, org_id: str, email: str) -> None:
        await self.db.execute(
            delete(TaskOwner).where(
                TaskOwner.kind == "guest",
                TaskOwner.ref == email,
                TaskOwner.task_id.in_(_org_tasks(org_id)),
            )
        )

    async def guest_refs_of_run(self, run_id: str) -> list[str]:
        rows = await self.db.execute(
            select(TaskOwner.ref)
            .distinct()
            .join(Task, Task.id == TaskOwner.task_id)
            .where(Task.run_id == run_id, TaskOwner.kind == "guest")
        )
        return list(rows.scalars())

    async def move_assignments(
        self, org_id: str, source: tuple[str, str], target: tuple[str, str]
    ) -> None:
        """Every task of the organization assigned to `source` (kind, ref) is assigned to
        `target` instead; a task that already has `target` just loses `source`."""
        src_kind, src_ref = source
        dst_kind, dst_ref = target
        has_target = select(TaskOwner.task_id).where(
            TaskOwner.kind == dst_kind, TaskOwner.ref == dst_ref
        )
        mine = and_(
            TaskOwner.kind == src_kind,
            TaskOwner.ref == src_ref,
            TaskOwner.task_id.in_(_org_tasks(org_id)),
        )
        await self.db.execute(delete(TaskOwner).where(mine, TaskOwner.task_id.in_(has_target)))
        await self.db.execute(
            update(TaskOwner)
            .where(mine)
            .values(kind=dst_kind, ref=dst_ref)
            .execution_options(synchronize_session=False)
        )

    async def remove_membership(self, membership: Membership) -> None:
        await self.db.execute(delete(Membership).where(Membership.id == membership.id))

    def add(self, *objs: object) -> None:
        self.db.add_all(objs)
