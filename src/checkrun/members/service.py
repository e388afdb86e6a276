"""Users, memberships and tokens: bootstrap of the first org, token issue, user provisioning."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit.auth import Actor, hash_token, require_admin
from checkrun.kit.clock import now
from checkrun.kit.errors import AppError, invalid_field, not_found
from checkrun.members.models import AccessToken, Membership, User
from checkrun.members.repository import MembersRepository
from checkrun.members.schemas import ProvisionUser
from checkrun.orgs.models import Organization

PROVISIONED_TOKEN_SECONDS = 7_776_000  # three months, as Tallyfy's app-provisioned user tokens


@dataclass(frozen=True)
class Bootstrap:
    org_id: str
    user_id: int
    email: str
    token: str
    created: bool


def _new_token() -> str:
    return "ckr_" + secrets.token_urlsafe(32)


async def issue_token(
    db: AsyncSession, user: User, org_id: str, ttl_seconds: int | None = None
) -> str:
    token = _new_token()
    expires = now() + timedelta(seconds=ttl_seconds) if ttl_seconds else None
    db.add(AccessToken(token_hash=hash_token(token), user_id=user.id, org_id=org_id,
                       expires_at=expires))
    await db.flush()
    return token


async def bootstrap(db: AsyncSession, org_name: str, email: str) -> Bootstrap:
    """Creates the organization, its default admin and a token, or, when they exist, issues a
    fresh token for the existing default admin."""
    repo = MembersRepository(db)
    existing = await repo.default_admin()
    if existing is not None:
        user, membership = existing
        token = await issue_token(db, user, membership.org_id)
        return Bootstrap(membership.org_id, user.id, user.email, token, created=False)
    return await create_organization(db, org_name, email)


async def create_organization(db: AsyncSession, org_name: str, email: str) -> Bootstrap:
    """A new organization with `email` as its default admin, and a token for them."""
    repo = MembersRepository(db)
    org = Organization(name=org_name)
    user = await repo.user_by_email(email)
    if user is None:
        user = User(email=email.lower(), first_name="Admin", last_name="User")
    repo.add(org, user)
    await db.flush()
    repo.add(Membership(org_id=org.id, user_id=user.id, role="admin", is_default_admin=True))
    token = await issue_token(db, user, org.id)
    return Bootstrap(org.id, user.id, user.email, token, created=True)


async def token_for_email(db: AsyncSession, email: str) -> Bootstrap:
    repo = MembersRepository(db)
    user = await repo.user_by_email(email)
    if user is None:
        raise LookupError(f"no user with email {email}")
    membership = await repo.first_membership(user.id)
    if membership is None:
        raise LookupError(f"user {email} belongs to no organization")
    token = await issue_token(db, user, membership.org_id)
    return Bootstrap(membership.org_id, user.id, user.email, token, created=False)


async def provision_user(
    db: AsyncSession, actor: Actor, body: ProvisionUser
) -> tuple[User, Membership]:
    require_admin(actor)
    repo = MembersRepository(db)
    if await repo.member_by_email(actor.org_id, body.email) is not None:
        raise invalid_field("email", "The email has already been taken.")
    user = await repo.user_by_email(body.email)
    if user is None:
        user = User(email=body.email.lower(), first_name=body.first_name, last_name=body.last_name,
                    timezone=body.timezone)
        repo.add(user)
        await db.flush()
    membership = Membership(org_id=actor.org_id, user_id=user.id, role=body.role,
                            invited_by=actor.user_id)
    repo.add(membership)
    await db.flush()
    return user, membership


async def provisioned_token(db: AsyncSession, actor: Actor, email: str) -> str:
    require_admin(actor)
    found = await MembersRepository(db).member_by_email(actor.org_id, email)
    if found is None:
        raise not_found()
    user, _ = found
    return await issue_token(db, user, actor.org_id, PROVISIONED_TOKEN_SECONDS)


async def me_in_org(db: AsyncSession, actor: Actor) -> tuple[User, Membership]:
    membership = await MembersRepository(db).membership(actor.org_id, actor.user_id)
    if membership is None:
        raise AppError(403, "You don't have access to this organization.")
    return actor.user, membership
