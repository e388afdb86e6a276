from __future__ import annotations

from functools import cache
from typing import Any, cast

from sqlalchemy import BindParameter, Integer, Table, bindparam, func, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import ReturningUpdate

from checkrun.kit.repository import Repository
from checkrun.members.models import Membership, User
from checkrun.orgs.models import Organization

_SEQUENCES = {
    "checklist": Organization.checklist_seq,
    "run": Organization.run_seq,
    "task": Organization.task_seq,
}


_ORG: BindParameter[str] = bindparam("reserve_org_id")
_TASKS: BindParameter[int] = bindparam("reserve_tasks", type_=Integer)


@cache
def _reserve_launch() -> ReturningUpdate[Any]:
    table = cast(Table, Organization.__table__)
    return (
        update(table)
        .where(table.c.id == _ORG)
        .values(run_seq=table.c.run_seq + 1, task_seq=table.c.task_seq + _TASKS)
        .returning(*table.c)
    )


class OrgsRepository(Repository):
    async def get(self, org_id: str) -> Organization | None:
        return await self.db.get(Organization, org_id)

    async def next_number(self, org_id: str, kind: str) -> int:
        """The next increment_id of this kind; the row lock serializes concurrent callers."""
        return await self.next_numbers(org_id, kind, 1)

    async def next_numbers(self, org_id: str, kind: str, count: int) -> int:
        """Reserves `count` consecutive numbers in one statement; answers the first."""
        if count == 0:
            return 0
        column = _SEQUENCES[kind]
        result = await self.db.execute(
            update(Organization)
            .where(Organization.id == org_id)
            .values({column: column + count})
            .returning(column)
        )
        return int(result.scalar_one()) - count + 1

    async def reserve_launch(self, org_id: str, tasks: int) -> tuple[Organization, int, int]:
        """A run number and `tasks` consecutive task numbers in one statement that answers the
        organization's row too (into the session): (organization, run number, first task
        number). The organization's row lock it takes lasts until commit, so a launch calls it
        only after its reads, followed by its batched inserts alone."""
        params = {_ORG.key: org_id, _TASKS.key: tasks}
        row = (await self.db.execute(_reserve_launch(), params)).one()
        # The session's copy, as the row is now: from the identity map (no statement) when
        # the launch read it before. Set by hand: the ORM's UPDATE ... RETURNING of the
        # entity costs more than the rest of the statement.
        org = await self.db.get(Organization, org_id)
        if org is None:
            raise LookupError(org_id)
        for attr in sa_inspect(Organization).column_attrs:
            set_committed_value(org, attr.key, row._mapping[attr.columns[0]])
        return org, org.run_seq, org.task_seq - tasks + 1

    async def active_members(self, org_id: str) -> int:
        return (await self.active_members_of([org_id])).get(org_id, 0)

    async def active_members_of(self, org_ids: list[str]) -> dict[str, int]:
        """users_count: active members only, as Tallyfy counts them."""
        if not org_ids:
            return {}
        rows = await self.db.execute(
            select(Membership.org_id, func.count())
            .where(Membership.org_id.in_(org_ids), Membership.status == "active")
            .group_by(Membership.org_id)
        )
        return {org_id: int(total) for org_id, total in rows.all()}

    async def named(self, name: str) -> list[Organization]:
        rows = await self.db.execute(select(Organization).where(Organization.name == name))
        return list(rows.scalars())

    async def with_default_admins(self) -> list[tuple[Organization, User | None]]:
        """Every organization, oldest first, with its default administrator (if any)."""
        rows = await self.db.execute(
            select(Organization, User)
            .outerjoin(
                Membership,
                (Membership.org_id == Organization.id) & Membership.is_default_admin.is_(True),
            )
            .outerjoin(User, User.id == Membership.user_id)
            .order_by(Organization.created_at, Organization.id)
        )
        seen: dict[str, tuple[Organization, User | None]] = {}
        for org, user in rows.all():
            seen.setdefault(org.id, (org, user))  # one default admin shown per organization
        return list(seen.values())
