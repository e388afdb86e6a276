"""Every statement of the web app's own records: its sessions and one-time sign-in links, kept
as `access_tokens` rows with their own names (never valid as API bearer tokens)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from checkrun.kit.repository import Repository
from checkrun.members.models import (
    WEB_PASSWORD_LINK,
    WEB_SESSION,
    WEB_SIGN_IN_LINK,
    AccessToken,
    Membership,
    User,
)


class WebRepository(Repository):
    def add(self, token: AccessToken) -> None:
        self.db.add(token)

    async def session(self, token_hash: str, at: datetime) -> tuple[User, AccessToken] | None:
        """A live session row and its user."""
        row = (
            await self.db.execute(
                select(User, AccessToken)
                .join(AccessToken, AccessToken.user_id == User.id)
                .where(
                    AccessToken.token_hash == token_hash,
                    AccessToken.name == WEB_SESSION,
                    AccessToken.revoked_at.is_(None),
                    AccessToken.expires_at > at,
                )
            )
        ).first()
        return (row[0], row[1]) if row else None

    async def redeem_link(
        self, token_hash: str, at: datetime, name: str = WEB_SIGN_IN_LINK
    ) -> tuple[int, str] | None:
        """Uses a live link up, in one conditional update (two clicks racing: one wins);
        answers its (user id, org id)."""
        row = (
            await self.db.execute(
                update(AccessToken)
                .where(
                    AccessToken.token_hash == token_hash,
                    AccessToken.name == name,
                    AccessToken.revoked_at.is_(None),
                    AccessToken.expires_at > at,
                )
                .values(revoked_at=at)
                .returning(AccessToken.user_id, AccessToken.org_id)
            )
        ).first()
        return (int(row[0]), str(row[1])) if row else None

    async def link_is_live(
        self, token_hash: str, at: datetime, name: str = WEB_SIGN_IN_LINK
    ) -> bool:
        found = await self.db.execute(
            select(AccessToken.id).where(
                AccessToken.token_hash == token_hash,
                AccessToken.name == name,
                AccessToken.revoked_at.is_(None),
                AccessToken.expires_at > at,
            )
        )
        return found.first() is not None

    async def end_session(self, token_hash: str, at: datetime) -> None:
        await self.db.execute(
            update(AccessToken)
            .where(
                AccessToken.token_hash == token_hash,
                AccessToken.name == WEB_SESSION,
                AccessToken.revoked_at.is_(None),
            )
            .values(revoked_at=at)
        )

    async def move_session(self, token_hash: str, org_id: str) -> None:
        await self.db.execute(
            update(AccessToken)
            .where(AccessToken.token_hash == token_hash, AccessToken.name == WEB_SESSION)
            .values(org_id=org_id)
        )

    async def active_memberships(self, user_id: int) -> list[Membership]:
        rows = await self.db.execute(
            select(Membership)
            .where(Membership.user_id == user_id, Membership.status != "disabled")
            .order_by(Membership.id)
        )
        return list(rows.scalars())

    async def revoke_password_links(self, user_id: int, at: datetime) -> None:
        """A new password link (or a password just chosen) ends the older ones."""
        await self.db.execute(
            update(AccessToken)
            .where(
                AccessToken.user_id == user_id,
                AccessToken.name == WEB_PASSWORD_LINK,
                AccessToken.revoked_at.is_(None),
            )
            .values(revoked_at=at)
        )

    async def end_user_sessions(self, user_id: int, at: datetime) -> None:
        await self.db.execute(
            update(AccessToken)
            .where(
                AccessToken.user_id == user_id,
                AccessToken.name == WEB_SESSION,
                AccessToken.revoked_at.is_(None),
            )
            .values(revoked_at=at)
        )
