from __future__ import annotations

from functools import cache
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Row,
    Table,
    bindparam,
    func,
    literal,
    select,
    update,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import ReturningUpdate

from checkrun.db import numbering_engine_of
from checkrun.kit.locking import holds, note_locked
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


# PostgreSQL's advisory lock that a launch holds shared to its commit and a change of the
# organization's settings takes exclusive (`settings_lock`): numbered outside the launch's
# transaction, a launch would otherwise count its deadlines and reminders with settings that a
# change committing meanwhile replaced, and that change's reschedule would not see its tasks.
SETTINGS_LOCKS = 7_301  # the first key: this kind of advisory lock
SETTINGS_LOCK = "organization settings"  # in `kit.locking`'s record of what is held


def settings_lock_key(org_id: ColumnElement[str] | BindParameter[str]) -> tuple[Any, Any]:
    return literal(SETTINGS_LOCKS), func.hashtext(org_id)


def launch_settings_lock(org_id: Any) -> ColumnElement[Any]:
    """The shared lock, as a column of the launch's locking read (`lock_for_launch`)."""
    return func.pg_advisory_xact_lock_shared(*settings_lock_key(org_id))


class OrgsRepository(Repository):
    async def get(self, org_id: str) -> Organization | None:
        return await self.db.get(Organization, org_id)

    async def next_number(self, org_id: str, kind: str) -> int:
        """The next increment_id of this kind; the row lock serializes concurrent callers."""
        return await self.next_numbers(org_id, kind, 1)

    async def next_numbers(self, org_id: str, kind: str, count: int) -> int:
        """Reserves `count` consecutive numbers in one statement; answers the first. The
        organization's row lock it takes lasts until commit."""
        if count == 0:
            return 0
        column = _SEQUENCES[kind]
        result = await self.db.execute(
            update(Organization)
            .where(Organization.id == org_id)
            .values({column: column + count})
            .returning(column)
        )
        note_locked(self.db, Organization.__tablename__, org_id)
        return int(result.scalar_one()) - count + 1

    async def settings_lock(self, org_id: str) -> None:
        """Before a change of the organization's settings (PostgreSQL; on SQLite the write
        lock orders it with launches): waits for the launches in progress, and launches wait
        for it (`launch_settings_lock`)."""
        if self.db.get_bind().dialect.name == "postgresql":
            lock = select(func.pg_advisory_xact_lock(*settings_lock_key(_ORG)))
            await self.db.execute(lock, {_ORG.key: org_id})

    async def reserve_launch(self, org_id: str, tasks: int) -> tuple[Organization, int, int]:
        """A run number and `tasks` consecutive task numbers in one statement that answers the
        organization's row too (into the session): (organization, run number, first task
        number). On PostgreSQL the statement commits on its own (`db.make_numbering_engine`):
        launches would otherwise wait in turn for each other's commit, holding the row's lock
        (a launch that fails after it leaves its numbers unused). Else, or when this
        transaction holds the row already, the row lock lasts until commit, so a launch calls
        it only after its reads, followed by its batched inserts alone."""
        params = {_ORG.key: org_id, _TASKS.key: tasks}
        row = await self._reserved_apart(org_id, params)
        if row is None:
            row = (await self.db.execute(_reserve_launch(), params)).one()
            note_locked(self.db, Organization.__tablename__, org_id)
        # The session's copy, as the row is now: from the identity map (no statement) when
        # the launch read it before. Set by hand: the ORM's UPDATE ... RETURNING of the
        # entity costs more than the rest of the statement.
        org = await self.db.get(Organization, org_id)
        if org is None:
            raise LookupError(org_id)
        for attr in sa_inspect(Organization).column_attrs:
            set_committed_value(org, attr.key, row._mapping[attr.columns[0]])
        return org, org.run_seq, org.task_seq - tasks + 1

    async def _reserved_apart(self, org_id: str, params: dict[str, Any]) -> Row[Any] | None:
        engine = numbering_engine_of(self.db)
        if engine is None or not holds(self.db, SETTINGS_LOCK, org_id):
            return None
        if holds(self.db, Organization.__tablename__, org_id):
            return None  # the statement would wait for this transaction
        try:
            async with engine.connect() as conn:
                row: Row[Any] | None = (await conn.execute(_reserve_launch(), params)).one_or_none()
                return row
        except (DBAPIError, OSError):
            # Waited too long (maybe on this very transaction, through a lock of another that
            # waits on it), or no connection to be had: numbered in the transaction instead,
            # where a deadlock is the database's to see and break. At worst numbers taken by a
            # statement whose answer was lost stay unused.
            return None

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
