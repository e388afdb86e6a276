from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Select, String, cast, delete, func, or_, select
from sqlalchemy.orm import selectinload

from checkrun.groups.models import Group, GroupGuest, GroupMember
from checkrun.kit.filters import count_of
from checkrun.kit.names import name_key
from checkrun.kit.pagination import PageParams
from checkrun.kit.repository import Repository
from checkrun.runs.models import Run
from checkrun.tasks.models import Task, TaskOwner
from checkrun.templates.models import Checklist, Step

SORTS: dict[str, list[Any]] = {
    "name": [func.lower(Group.name), Group.id],
    "-name": [func.lower(Group.name).desc(), Group.id],
    "created_at": [Group.created_at, Group.id],
    "-created_at": [Group.created_at.desc(), Group.id],
    "updated_at": [Group.updated_at, Group.id],
    "-updated_at": [Group.updated_at.desc(), Group.id],
}


def _contains(column: Any, q: str) -> Any:
    escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def _loaded(stmt: Select[Any]) -> Select[Any]:
    return stmt.options(selectinload(Group.members), selectinload(Group.guests))


class GroupsRepository(Repository):
    async def get(self, org_id: str, group_id: str) -> Group | None:
        stmt = _loaded(select(Group).where(self.scope(Group, org_id), Group.id == group_id))
        found: Group | None = (await self.db.execute(stmt)).scalar_one_or_none()
        return found

    async def named(self, org_id: str, name: str) -> Group | None:
        """The group of this name, whatever its case."""
        stmt = select(Group).where(self.scope(Group, org_id), Group.name_key == name_key(name))
        return (await self.db.execute(stmt)).scalars().first()

    async def search(
        self, org_id: str, page: PageParams, q: str | None, sort: str
    ) -> tuple[list[Group], int]:
        stmt = select(Group).where(self.scope(Group, org_id))
        if q and q.strip():
            stmt = stmt.where(
                or_(_contains(Group.name, q.strip()), _contains(Group.description, q.strip()))
            )
        total = await count_of(self.db, stmt)
        rows = await self.db.execute(
            _loaded(stmt).order_by(*SORTS[sort]).offset(page.offset).limit(page.per_page)
        )
        return list(rows.scalars()), total

    async def existing_ids(self, org_id: str, group_ids: list[str]) -> set[str]:
        if not group_ids:
            return set()
        rows = await self.db.execute(
            select(Group.id).where(self.scope(Group, org_id), Group.id.in_(group_ids))
        )
        return set(rows.scalars())

    async def ids_of_member(self, org_id: str, user_id: int) -> list[str]:
        rows = await self.db.execute(
            select(Group.id)
            .join(GroupMember, GroupMember.group_id == Group.id)
            .where(self.scope(Group, org_id), GroupMember.user_id == user_id)
        )
        return list(rows.scalars())

    async def of_members(self, org_id: str, user_ids: list[int]) -> dict[int, list[Group]]:
        """The groups each member belongs to, by member id."""
        out: dict[int, list[Group]] = defaultdict(list)
        if not user_ids:
            return out
        rows = await self.db.execute(
            select(GroupMember.user_id, Group)
            .join(Group, Group.id == GroupMember.group_id)
            .where(self.scope(Group, org_id), GroupMember.user_id.in_(user_ids))
            .options(selectinload(Group.members), selectinload(Group.guests))
            .order_by(Group.created_at, Group.id)
        )
        for user_id, group in rows.all():
            out[user_id].append(group)
        return out

    async def remove_member(self, org_id: str, user_id: int) -> None:
        """Takes a member out of every group of the organization."""
        await self.db.execute(
            delete(GroupMember).where(
                GroupMember.user_id == user_id,
                GroupMember.group_id.in_(select(Group.id).where(self.scope(Group, org_id))),
            )
        )

    async def remove_guest(self, org_id: str, email: str) -> None:
        """Takes a guest's address out of every group of the organization."""
        await self.db.execute(
            delete(GroupGuest).where(
                GroupGuest.email == email,
                GroupGuest.group_id.in_(select(Group.id).where(self.scope(Group, org_id))),
            )
        )

    async def unassign(self, org_id: str, group_id: str) -> None:
        """A deleted group leaves the tasks, steps, runs and templates it was assigned to."""
        await self.db.execute(
            delete(TaskOwner).where(
                TaskOwner.kind == "group",
                TaskOwner.ref == group_id,
                TaskOwner.task_id.in_(select(Task.id).where(self.scope(Task, org_id, "all"))),
            )
        )
        # JSON lists: narrowed in SQL by the id's text (ids are hex, safe in LIKE), then
        # rewritten here, which reads the same on SQLite and PostgreSQL.
        pattern = f'%"{group_id}"%'
        steps = (
            select(Step)
            .join(Checklist, Checklist.id == Step.checklist_id)
            .where(self.scope(Checklist, org_id, "all"), cast(Step.groups, String).like(pattern))
        )
        runs = select(Run).where(
            self.scope(Run, org_id, "all"), cast(Run.groups, String).like(pattern)
        )
        checklists = select(Checklist).where(
            self.scope(Checklist, org_id, "all"), cast(Checklist.groups, String).like(pattern)
        )
        for stmt in (steps, runs, checklists):
            for row in (await self.db.execute(stmt)).scalars():
                row.groups = [g for g in row.groups or [] if g != group_id]

    async def delete(self, group: Group) -> None:
        await self.db.delete(group)

    def add(self, *objs: object) -> None:
        self.db.add_all(objs)

    async def names_of(self, org_id: str, group_ids: list[str]) -> dict[str, str]:
        """Group names by id (deleted groups are missing)."""
        if not group_ids:
            return {}
        rows = await self.db.execute(
            select(Group.id, Group.name).where(self.scope(Group, org_id), Group.id.in_(group_ids))
        )
        return {group_id: name for group_id, name in rows.all()}
