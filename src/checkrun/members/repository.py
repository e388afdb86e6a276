from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, delete, func, or_, select, update

from checkrun.kit.filters import count_of
from checkrun.kit.pagination import PageParams
from checkrun.kit.repository import ORG_ID, Repository, scope
from checkrun.kit.sql import plain_rows
from checkrun.members.models import WEB_TOKEN_NAMES, AccessToken, Membership, User
from checkrun.orgs.models import Organization
from checkrun.runs.models import Run
from checkrun.tasks.models import Task, TaskOwner
from checkrun.templates.models import Checklist

OPEN = ("not-started", "active", "in-progress")
SORTS: dict[str, list[Any]] = {
    "first_name": [func.lower(User.first_name), User.id],
    "-first_name": [func.lower(User.first_name).desc(), User.id],
    "last_name": [func.lower(User.last_name), User.id],
    "-last_name": [func.lower(User.last_name).desc(), User.id],
    "email": [func.lower(User.email), User.id],
    "-email": [func.lower(User.email).desc(), User.id],
    "created_at": [Membership.created_at, User.id],
    "-created_at": [Membership.created_at.desc(), User.id],
    "id": [User.id],
    "-id": [User.id.desc()],
}


def _contains(column: Any, q: str) -> Any:
    escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


_USER_IDS: BindParameter[int] = bindparam("user_ids", expanding=True)


@cache
def _names_of_members() -> Select[int, str, str]:
    return (
        select(User.id, User.first_name, User.last_name)
        .join(Membership, Membership.user_id == User.id)
        .where(scope(Membership, ORG_ID), User.id.in_(_USER_IDS))
    )


def _open_tasks_of(org_id: str) -> Any:
    return select(Task.id).where(scope(Task, org_id), Task.status.in_(OPEN))


class MembersRepository(Repository):
    async def user_by_token_hash(self, token_hash: str) -> tuple[User, AccessToken] | None:
        row = (
            await self.db.execute(
                select(User, AccessToken)
                .join(AccessToken, AccessToken.user_id == User.id)
                .where(
                    AccessToken.token_hash == token_hash,
                    AccessToken.revoked_at.is_(None),
                    AccessToken.name.not_in(WEB_TOKEN_NAMES),
                )
            )
        ).first()
        return (row[0], row[1]) if row else None

    async def membership(self, org_id: str, user_id: int) -> Membership | None:
        return (
            await self.db.execute(
                select(Membership).where(
                    self.scope(Membership, org_id), Membership.user_id == user_id
                )
            )
        ).scalar_one_or_none()

    async def user_by_email(self, email: str) -> User | None:
        return (
            await self.db.execute(select(User).where(func.lower(User.email) == email.lower()))
        ).scalar_one_or_none()

    async def member_by_email(self, org_id: str, email: str) -> tuple[User, Membership] | None:
        row = (
            await self.db.execute(
                select(User, Membership)
                .join(Membership, Membership.user_id == User.id)
                .where(self.scope(Membership, org_id), func.lower(User.email) == email.lower())
            )
        ).first()
        return (row[0], row[1]) if row else None

    async def default_admin(self) -> tuple[User, Membership] | None:
        row = (
            await self.db.execute(
                select(User, Membership)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.is_default_admin.is_(True))
                .order_by(Membership.id)
                .limit(1)
            )
        ).first()
        return (row[0], row[1]) if row else None

    async def first_membership(self, user_id: int) -> Membership | None:
        return (
            (
                await self.db.execute(
                    select(Membership).where(Membership.user_id == user_id).order_by(Membership.id)
                )
            )
            .scalars()
            .first()
        )

    async def existing_user_ids(self, org_id: str, user_ids: list[int]) -> set[int]:
        if not user_ids:
            return set()
        rows = await self.db.execute(
            select(Membership.user_id).where(
                self.scope(Membership, org_id), Membership.user_id.in_(user_ids)
            )
        )
        return set(rows.scalars())

    async def member(self, org_id: str, user_id: int) -> tuple[User, Membership] | None:
        row = (
            await self.db.execute(
                select(User, Membership)
                .join(Membership, Membership.user_id == User.id)
                .where(self.scope(Membership, org_id), User.id == user_id)
            )
        ).first()
        return (row[0], row[1]) if row else None

    async def members(self, org_id: str, user_ids: Sequence[int]) -> list[tuple[User, Membership]]:
        if not user_ids:
            return []
        rows = await self.db.execute(
            select(User, Membership)
            .join(Membership, Membership.user_id == User.id)
            .where(self.scope(Membership, org_id), User.id.in_(list(user_ids)))
            .order_by(User.id)
        )
        return [(u, m) for u, m in rows.all()]

    async def full_names(self, org_id: str, user_ids: Sequence[int]) -> dict[int, str]:
        """The full names of those of `user_ids` who are members, in one prebuilt statement."""
        if not user_ids:
            return {}
        params = {ORG_ID.key: org_id, _USER_IDS.key: list(user_ids)}
        rows = await plain_rows(self.db, _names_of_members(), params)
        return {uid: User.name_of(first, last) for uid, first, last in rows}

    async def search(
        self,
        org_id: str,
        page: PageParams,
        q: str | None,
        sort: str,
        statuses: Sequence[str] | None = None,
    ) -> tuple[list[tuple[User, Membership]], int]:
        """Members of every status unless `statuses` narrows them; `q` matches first name,
        last name, full name or email."""
        stmt = (
            select(User, Membership)
            .join(Membership, Membership.user_id == User.id)
            .where(self.scope(Membership, org_id))
        )
        if statuses:
            stmt = stmt.where(Membership.status.in_(list(statuses)))
        if q and q.strip():
            text = q.strip()
            full = User.first_name + " " + User.last_name
            stmt = stmt.where(
                or_(
                    _contains(User.first_name, text),
                    _contains(User.last_name, text),
                    _contains(full, text),
                    _contains(User.email, text),
                )
            )
        total = await count_of(self.db, stmt)  # type: ignore[arg-type]
        rows = await self.db.execute(
            stmt.order_by(*SORTS[sort]).offset(page.offset).limit(page.per_page)
        )
        return [(u, m) for u, m in rows.all()], total

    async def organizations_of(
        self, user_id: int, page: PageParams, only_org: str | None = None
    ) -> tuple[list[tuple[Organization, Membership]], int]:
        """The organizations a user may act in (their membership there is not disabled), or
        only `only_org` when the token is bound to it."""
        stmt = (
            select(Organization, Membership)
            .join(Membership, Membership.org_id == Organization.id)
            .where(Membership.user_id == user_id, Membership.status != "disabled")
        )
        if only_org is not None:
            stmt = stmt.where(self.scope(Membership, only_org))
        total = await count_of(self.db, stmt)  # type: ignore[arg-type]
        rows = await self.db.execute(
            stmt.order_by(Membership.id).offset(page.offset).limit(page.per_page)
        )
        return [(o, m) for o, m in rows.all()], total

    async def other_memberships(self, user_id: int, org_id: str) -> int:
        result = await self.db.execute(
            select(func.count()).where(Membership.user_id == user_id, Membership.org_id != org_id)
        )
        return int(result.scalar_one())

    async def stats_of(self, org_id: str, user_ids: Sequence[int]) -> dict[int, dict[str, int]]:
        """Per member: tasks completed, processes launched, templates created here."""
        out: dict[int, dict[str, int]] = {
            u: {"tasks_completed": 0, "processes_launched": 0, "checklists_created": 0}
            for u in user_ids
        }
        if not user_ids:
            return out
        queries = {
            "tasks_completed": (Task.completer_id, Task, Task.status == "completed"),
            "processes_launched": (Run.started_by, Run, None),
            "checklists_created": (Checklist.created_by, Checklist, None),
        }
        for key, (column, model, extra) in queries.items():
            stmt = (
                select(column, func.count())
                .where(self.scope(model, org_id, "all"), column.in_(list(user_ids)))
                .group_by(column)
            )
            if extra is not None:
                stmt = stmt.where(extra)
            for user_id, total in (await self.db.execute(stmt)).all():
                out[int(user_id or 0)][key] = int(total)
        return out

    async def reassign_open_tasks(self, org_id: str, from_user: int, to_user: int) -> None:
        """Moves a member's assignments on open tasks to another member (once per task)."""
        mine = (TaskOwner.kind == "user") & (TaskOwner.ref == str(from_user))
        theirs = select(TaskOwner.task_id).where(
            TaskOwner.kind == "user", TaskOwner.ref == str(to_user)
        )
        await self.db.execute(
            delete(TaskOwner).where(
                mine, TaskOwner.task_id.in_(_open_tasks_of(org_id)), TaskOwner.task_id.in_(theirs)
            )
        )
        await self.db.execute(
            update(TaskOwner)
            .where(mine, TaskOwner.task_id.in_(_open_tasks_of(org_id)))
            .values(ref=str(to_user))
        )

    async def unassign_everywhere(self, org_id: str, user_id: int) -> None:
        """A member deleted for good leaves every task of the organization."""
        await self.db.execute(
            delete(TaskOwner).where(
                TaskOwner.kind == "user",
                TaskOwner.ref == str(user_id),
                TaskOwner.task_id.in_(select(Task.id).where(scope(Task, org_id, "all"))),
            )
        )

    async def revoke_tokens(self, org_id: str, user_id: int, when: datetime) -> None:
        await self.db.execute(
            update(AccessToken)
            .where(
                self.scope(AccessToken, org_id),
                AccessToken.user_id == user_id,
                AccessToken.revoked_at.is_(None),
            )
            .values(revoked_at=when)
        )

    async def delete_membership(self, membership: Membership) -> None:
        await self.db.delete(membership)

    def add(self, *objs: object) -> None:
        self.db.add_all(objs)
