from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from checkrun.kit.repository import Repository
from checkrun.members.models import AccessToken, Membership, User
from checkrun.oauth.models import AppToken, OAuthClient, RefreshToken, UserPassword
from checkrun.orgs.models import Organization


class OAuthRepository(Repository):
    async def client(self, client_id: int) -> OAuthClient | None:
        return (
            await self.db.execute(
                select(OAuthClient).where(
                    OAuthClient.id == client_id, OAuthClient.revoked_at.is_(None)
                )
            )
        ).scalar_one_or_none()

    async def clients_of(self, org_id: str) -> list[OAuthClient]:
        rows = await self.db.execute(
            select(OAuthClient).where(self.scope(OAuthClient, org_id)).order_by(OAuthClient.id)
        )
        return list(rows.scalars())

    async def revoke_client(self, client_id: int, at: datetime) -> bool:
        result = await self.db.execute(
            update(OAuthClient)
            .where(OAuthClient.id == client_id, OAuthClient.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        await self.db.execute(
            update(AppToken)
            .where(AppToken.client_id == client_id, AppToken.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return bool(getattr(result, "rowcount", 0))

    async def orgs_named(self, name: str) -> list[Organization]:
        rows = await self.db.execute(select(Organization).where(Organization.name == name))
        return list(rows.scalars())

    async def org(self, org_id: str) -> Organization | None:
        return await self.db.get(Organization, org_id)

    async def active_member(self, org_id: str, email: str) -> User | None:
        """The user with this email when they are an active (not disabled) member of the org."""
        return (
            await self.db.execute(
                select(User)
                .join(Membership, Membership.user_id == User.id)
                .where(
                    self.scope(Membership, org_id),
                    Membership.status != "disabled",
                    func.lower(User.email) == email.strip().lower(),
                )
            )
        ).scalar_one_or_none()

    async def is_active_member(self, org_id: str, user_id: int) -> bool:
        found = await self.db.execute(
            select(Membership.id).where(
                self.scope(Membership, org_id),
                Membership.user_id == user_id,
                Membership.status != "disabled",
            )
        )
        return found.first() is not None

    async def org_admin(self, org_id: str) -> tuple[User, Membership] | None:
        """Whom an application acts as: the default admin, else the longest-standing admin."""
        row = (
            await self.db.execute(
                select(User, Membership)
                .join(Membership, Membership.user_id == User.id)
                .where(
                    self.scope(Membership, org_id),
                    Membership.role == "admin",
                    Membership.status != "disabled",
                )
                .order_by(Membership.is_default_admin.desc(), Membership.id)
                .limit(1)
            )
        ).first()
        return (row[0], row[1]) if row else None

    async def password_of(self, user_id: int) -> UserPassword | None:
        return await self.db.get(UserPassword, user_id)

    async def set_password(self, user_id: int, password_hash: str) -> None:
        row = await self.password_of(user_id)
        if row is None:
            self.db.add(UserPassword(user_id=user_id, password_hash=password_hash))
        else:
            row.password_hash = password_hash
        await self.db.flush()

    async def refresh_token(self, token_hash: str) -> RefreshToken | None:
        return (
            await self.db.execute(select(RefreshToken).where(RefreshToken.token_hash == token_hash))
        ).scalar_one_or_none()

    async def revoke_access_token(self, token_hash: str, at: datetime) -> None:
        await self.db.execute(
            update(AccessToken)
            .where(AccessToken.token_hash == token_hash, AccessToken.revoked_at.is_(None))
            .values(revoked_at=at)
        )

    async def app_token(self, token_hash: str) -> AppToken | None:
        return (
            await self.db.execute(
                select(AppToken).where(
                    AppToken.token_hash == token_hash, AppToken.revoked_at.is_(None)
                )
            )
        ).scalar_one_or_none()

    def add(self, *objs: object) -> None:
        self.db.add_all(objs)
