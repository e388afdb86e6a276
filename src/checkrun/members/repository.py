from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.members.models import AccessToken, Membership, User


class MembersRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def user_by_token_hash(self, token_hash: str) -> tuple[User, AccessToken] | None:
        row = (
            await self.db.execute(
                select(User, AccessToken)
                .join(AccessToken, AccessToken.user_id == User.id)
                .where(AccessToken.token_hash == token_hash, AccessToken.revoked_at.is_(None))
            )
        ).first()
        return (row[0], row[1]) if row else None

    async def membership(self, org_id: str, user_id: int) -> Membership | None:
        return (
            await self.db.execute(
                select(Membership).where(
                    Membership.org_id == org_id, Membership.user_id == user_id
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
                .where(Membership.org_id == org_id, func.lower(User.email) == email.lower())
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
            await self.db.execute(
                select(Membership).where(Membership.user_id == user_id).order_by(Membership.id)
            )
        ).scalars().first()

    async def existing_user_ids(self, org_id: str, user_ids: list[int]) -> set[int]:
        if not user_ids:
            return set()
        rows = await self.db.execute(
            select(Membership.user_id).where(
                Membership.org_id == org_id, Membership.user_id.in_(user_ids)
            )
        )
        return set(rows.scalars())

    def add(self, *objs: object) -> None:
        self.db.add_all(objs)
