from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from checkrun.db import Base, UTCDateTime
from checkrun.kit.clock import now

ROLES = ("admin", "standard", "light")
STATUSES = ("active", "invited", "disabled")
# Bot users (integrations) are members no route creates; they can't be edited or removed.
MEMBER_TYPES = ("member", "bot")
DATE_FORMATS = ("mm/dd/yyyy", "dd/mm/yyyy")
# Token rows of the web app (a signed-in browser, a one-time sign-in link): kept beside the API
# tokens so that disabling or removing a member ends them too, but never valid as a bearer.
WEB_SESSION = "web-session"
WEB_SIGN_IN_LINK = "web-sign-in-link"
# A one-time "choose your password" link: an invitation's, or a password reset's.
WEB_PASSWORD_LINK = "web-password-link"
WEB_TOKEN_NAMES = (WEB_SESSION, WEB_SIGN_IN_LINK, WEB_PASSWORD_LINK)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    first_name: Mapped[str] = mapped_column(String(32), default="")
    last_name: Mapped[str] = mapped_column(String(32), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    job_title: Mapped[str | None] = mapped_column(String(200), nullable=True)
    job_description: Mapped[str | None] = mapped_column(Text, nullable=True)
    team: Mapped[str | None] = mapped_column(String(200), nullable=True)
    country_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    date_format: Mapped[str] = mapped_column(String(16), default="mm/dd/yyyy")
    step_preferences: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    @property
    def full_name(self) -> str:
        return self.name_of(self.first_name, self.last_name)

    @staticmethod
    def name_of(first_name: str, last_name: str) -> str:
        return f"{first_name} {last_name}".strip()


class Membership(Base):
    """A user's place in one organization: role and status live here, not on the user."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("org_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="standard")
    status: Mapped[str] = mapped_column(String(16), default="active")
    is_default_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    invited_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    type: Mapped[str] = mapped_column(String(16), default="member")
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    disabled_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reactivated_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def is_bot(self) -> bool:
        return self.type == "bot"


class AccessToken(Base):
    """A user's access token; only its sha256 is stored. `org_bound` marks a token that an
    organization minted for the user (provisioning): it is valid in `org_id` only, whereas the
    user's own tokens (personal, password grant) work in every organization they belong to."""

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100), default="personal")
    org_bound: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
