"""Who a browser is: sign-in with email and password or a one-time link, the session row
behind the cookie, the organization it acts in, and the `Actor` the API would build."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit.auth import Actor, hash_token
from checkrun.kit.clock import now
from checkrun.kit.errors import forbidden
from checkrun.mail import notify
from checkrun.mail.outbox import mail_enabled
from checkrun.members import service as members
from checkrun.members.models import (
    WEB_PASSWORD_LINK,
    WEB_SESSION,
    WEB_SIGN_IN_LINK,
    AccessToken,
    Membership,
    User,
)
from checkrun.members.repository import MembersRepository
from checkrun.oauth import service as oauth
from checkrun.oauth.passwords import MIN_PASSWORD_LENGTH
from checkrun.web.repository import WebRepository

NO_ACCESS = "You don't have access to this organization."


@dataclass(frozen=True)
class WebSession:
    user: User
    org_id: str
    token_hash: str
    # The cookie's value: the CSRF token of this session is derived from it.
    secret: str


async def check_password(db: AsyncSession, email: str, password: str) -> User | None:
    """The user when the password is theirs and they may act in some organization. The KDF
    runs for unknown addresses too, so that timing tells nothing."""
    user = await MembersRepository(db).user_by_email(email.strip()) if email.strip() else None
    member = user is not None and bool(await WebRepository(db).active_memberships(user.id))
    ok = await oauth.check_user_password(db, user.id if user and member else None, password)
    return user if ok else None


async def start_session(
    db: AsyncSession, user: User, ttl_seconds: int, org_id: str | None = None
) -> str:
    """A new session row (in `org_id`, else the user's first organization); answers the
    cookie's value."""
    memberships = await WebRepository(db).active_memberships(user.id)
    if not memberships:
        raise forbidden(NO_ACCESS)
    chosen = org_id if any(m.org_id == org_id for m in memberships) else memberships[0].org_id
    raw = "ckw_" + secrets.token_urlsafe(32)
    WebRepository(db).add(
        AccessToken(
            token_hash=hash_token(raw),
            user_id=user.id,
            org_id=chosen,
            name=WEB_SESSION,
            expires_at=now() + timedelta(seconds=ttl_seconds),
        )
    )
    await db.flush()
    return raw


async def session_of(db: AsyncSession, raw: str) -> WebSession | None:
    if not raw:
        return None
    digest = hash_token(raw)
    found = await WebRepository(db).session(digest, now())
    if found is None:
        return None
    user, row = found
    return WebSession(user=user, org_id=row.org_id, token_hash=digest, secret=raw)


async def end_session(db: AsyncSession, session: WebSession) -> None:
    await WebRepository(db).end_session(session.token_hash, now())


async def organizations(db: AsyncSession, user_id: int) -> list[Membership]:
    return await WebRepository(db).active_memberships(user_id)


async def switch_org(db: AsyncSession, session: WebSession, org_id: str) -> None:
    """The session acts in `org_id` from now on (a membership there that is not disabled)."""
    membership = await MembersRepository(db).membership(org_id, session.user.id)
    if membership is None or membership.status == "disabled":
        raise forbidden(NO_ACCESS)
    await WebRepository(db).move_session(session.token_hash, org_id)


async def actor_of(db: AsyncSession, session: WebSession) -> Actor:
    """The same caller the API builds for the user's own token, in the session's organization
    (the person signed in with their own password or link: not a key an organization minted)."""
    membership = await MembersRepository(db).membership(session.org_id, session.user.id)
    if membership is None or membership.status == "disabled":
        raise forbidden(NO_ACCESS)
    return Actor.of(session.user, session.org_id, membership.role)


async def issue_sign_in_link(db: AsyncSession, email: str, ttl_seconds: int) -> str:
    """A single-use sign-in token for the user with this email (stored as its sha256)."""
    user = await MembersRepository(db).user_by_email(email.strip())
    if user is None:
        raise LookupError(f"no user with email {email}")
    memberships = await WebRepository(db).active_memberships(user.id)
    if not memberships:
        raise LookupError(f"user {email} has no active membership")
    raw = "ckl_" + secrets.token_urlsafe(32)
    WebRepository(db).add(
        AccessToken(
            token_hash=hash_token(raw),
            user_id=user.id,
            org_id=memberships[0].org_id,
            name=WEB_SIGN_IN_LINK,
            expires_at=now() + timedelta(seconds=ttl_seconds),
        )
    )
    await db.flush()
    return raw


async def link_is_live(db: AsyncSession, raw: str) -> bool:
    return await WebRepository(db).link_is_live(hash_token(raw), now())


async def redeem_sign_in_link(db: AsyncSession, raw: str) -> tuple[User, str] | None:
    """The link's user and organization, once: the link is used up."""
    found = await WebRepository(db).redeem_link(hash_token(raw), now())
    if found is None:
        return None
    user = await db.get(User, found[0])
    return (user, found[1]) if user is not None else None


# --- "choose your password" links: an invitation's, a password reset's ----------------------

INVITE_LINK_SECONDS = 7 * 24 * 3600
RESET_LINK_SECONDS = 3600


async def issue_password_link(db: AsyncSession, user: User, org_id: str, ttl_seconds: int) -> str:
    """A single-use link (stored as its sha256) to choose a password; the user's older
    password links stop working."""
    repo = WebRepository(db)
    await repo.revoke_password_links(user.id, now())
    raw = "ckp_" + secrets.token_urlsafe(32)
    repo.add(
        AccessToken(
            token_hash=hash_token(raw),
            user_id=user.id,
            org_id=org_id,
            name=WEB_PASSWORD_LINK,
            expires_at=now() + timedelta(seconds=ttl_seconds),
        )
    )
    await db.flush()
    return raw


async def forgot_password(db: AsyncSession, email: str) -> str | None:
    """A reset link for the member with this address (None when there is none, which the page
    never tells). With email configured it is emailed to them; without, an admin hands
    links out."""
    user = await MembersRepository(db).user_by_email(email.strip()) if email.strip() else None
    if user is None:
        return None
    memberships = await WebRepository(db).active_memberships(user.id)
    if not memberships:
        return None
    org_id = memberships[0].org_id
    raw = await issue_password_link(db, user, org_id, RESET_LINK_SECONDS)
    if mail_enabled(db):
        await notify.password_reset(db, user, org_id, raw, RESET_LINK_SECONDS // 60)
    return raw


def emails_links(db: AsyncSession) -> bool:
    """Whether invitation and reset links go out by email (else the page shows them)."""
    return mail_enabled(db)


async def password_link_is_live(db: AsyncSession, raw: str) -> bool:
    return await WebRepository(db).link_is_live(hash_token(raw), now(), WEB_PASSWORD_LINK)


def password_problem(password: str, again: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters."
    if password != again:
        return "The two passwords are not the same."
    return None


async def choose_password(db: AsyncSession, raw: str, password: str) -> tuple[User, str] | None:
    """Uses the link up and sets the password; an invited member becomes active. Every other
    session of the user ends (a reset locks out whoever knew the old password). None: the
    link is dead."""
    repo = WebRepository(db)
    found = await repo.redeem_link(hash_token(raw), now(), WEB_PASSWORD_LINK)
    user = await db.get(User, found[0]) if found is not None else None
    if found is None or user is None:
        return None
    await oauth.set_password(db, user.email, password)
    await repo.revoke_password_links(user.id, now())
    await repo.end_user_sessions(user.id, now())
    await members.accept_invite(db, found[1], user)
    return user, found[1]
