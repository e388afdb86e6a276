"""Bearer tokens and the X-Tallyfy-Client header; the org in the path must be the caller's."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, partial
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit import authcache
from checkrun.kit.clock import now
from checkrun.kit.errors import AppError, forbidden, unauthenticated
from checkrun.kit.logs import note_actor
from checkrun.kit.ratelimit import remember_token_owner
from checkrun.kit.unit_of_work import Db as Db  # routes take the request's session from here
from checkrun.members.models import AccessToken, User
from checkrun.members.repository import MembersRepository
from checkrun.oauth.repository import OAuthRepository


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, eq=False)
class Principal:
    """The token's user. Its `User` is attached to the request's session when something first
    reads `user` (most requests need only `user_id`, and attaching costs more than a check)."""

    user_id: int
    token_org_id: str
    load_user: Callable[[], User]
    # Set when an organization minted the token: it acts in that organization only.
    bound_org_id: str | None = None
    email: str | None = None

    @cached_property
    def user(self) -> User:
        return self.load_user()

    def may_act_in(self, org_id: str) -> bool:
        return self.bound_org_id is None or self.bound_org_id == org_id


@dataclass(frozen=True, eq=False)
class Actor:
    """The caller inside the organization named by the path; `user` is attached on first
    read, as the principal's is."""

    user_id: int
    org_id: str
    role: str
    load_user: Callable[[], User]
    # The token was minted by this organization, not by the user: it may not change what the
    # user owns beyond it (their profile is shared with their other organizations).
    org_bound: bool = False
    # What every recorded change names the actor by, known without attaching `user`.
    email: str | None = None

    @classmethod
    def of(cls, user: User, org_id: str, role: str) -> Actor:
        """An actor for a `User` already at hand."""
        return cls(user.id, org_id, role, lambda: user, email=user.email)

    @cached_property
    def user(self) -> User:
        return self.load_user()

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_light(self) -> bool:
        return self.role == "light"


APP_TOKEN_ON_USER_ROUTE = (
    "Unauthenticated. This is an application token (client_credentials grant): it can only "
    "call /applications/{org_id}/users routes. Use a user token (password grant or "
    "/applications/{org_id}/users/{email}/token) for user-scoped endpoints."
)


EXPIRED = "Unauthenticated. The access token has expired."
INVALID = "Unauthenticated. The access token is invalid or revoked."
NO_ACCESS = "You don't have access to this organization."
OTHER_ORG_TOKEN = (
    "This token was issued by another organization and is valid in that organization only."
)


def bearer_of(authorization: str) -> str:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthenticated("Unauthenticated. Send Authorization: Bearer <access token>.")
    return token.strip()


def bearer_token(request: Request) -> str:
    return bearer_of(request.headers.get("authorization", ""))


def require_client_header_value(value: str) -> None:
    if not value.strip():
        raise AppError(
            401,
            "The X-Tallyfy-Client header is required (for example X-Tallyfy-Client: APIClient).",
            "CLIENT_HEADER_MISSING",
        )


def require_client_header(request: Request) -> None:
    require_client_header_value(request.headers.get("x-tallyfy-client", ""))


def _refuse_expired(expires_at: datetime | None) -> None:
    if expires_at is not None and expires_at <= now():
        raise unauthenticated(EXPIRED)


async def user_token(db: AsyncSession, digest: str) -> tuple[User, AccessToken]:
    """The user behind a token hash, or the 401 every user route gives."""
    found = await MembersRepository(db).user_by_token_hash(digest)
    if found is None:
        if await OAuthRepository(db).app_token(digest) is not None:
            raise unauthenticated(APP_TOKEN_ON_USER_ROUTE)
        raise unauthenticated(INVALID)
    _refuse_expired(found[1].expires_at)
    return found


async def _token_facts(db: AsyncSession, digest: str) -> authcache.TokenFacts:
    """What the token says, from the cache or (filling it) from the database; expiry is
    checked on every use."""
    facts = authcache.token(db, digest)
    if facts is None:
        generation = authcache.cache.generation
        user, access = await user_token(db, digest)
        facts = authcache.remember_token(
            db, generation, digest, user, access.org_id, access.org_bound, access.expires_at
        )
    _refuse_expired(facts.expires_at)
    return facts


async def admit_token(db: AsyncSession, authorization: str, client_header: str) -> None:
    """What is checked before a request's body is read: a live token that some route accepts
    (a user's, or an application's on the routes that take one), with the client header.
    Each refusal is the one the route's own dependency would give."""
    digest = hash_token(bearer_of(authorization))
    facts = authcache.token(db, digest)
    if facts is not None:
        _refuse_expired(facts.expires_at)
    else:
        generation = authcache.cache.generation
        found = await MembersRepository(db).user_by_token_hash(digest)
        if found is not None:
            user, access = found
            authcache.remember_token(
                db, generation, digest, user, access.org_id, access.org_bound, access.expires_at
            )
            _refuse_expired(access.expires_at)
        else:
            app = await OAuthRepository(db).app_token(digest)
            if app is None:
                raise unauthenticated(INVALID)
            _refuse_expired(app.expires_at)
    require_client_header_value(client_header)


async def current_principal(request: Request, db: Db) -> Principal:
    digest = hash_token(bearer_token(request))
    facts = await _token_facts(db, digest)
    require_client_header(request)
    user_id: int = facts.user["id"]
    remember_token_owner(digest, f"user:{user_id}")
    note_actor(request.scope, user_id, facts.token_org_id)
    return Principal(
        user_id=user_id,
        token_org_id=facts.token_org_id,
        load_user=partial(authcache.attached_user, db, facts.user),
        bound_org_id=facts.token_org_id if facts.org_bound else None,
        email=facts.user["email"],
    )


async def member_facts(db: AsyncSession, org_id: str, user_id: int) -> authcache.MemberFacts | None:
    """A member's role and status, from the auth cache or (filling it) from the database;
    None for someone who is not a member."""
    facts = authcache.member(db, org_id, user_id)
    if facts is None:
        generation = authcache.cache.generation
        membership = await MembersRepository(db).membership(org_id, user_id)
        if membership is None:
            return None
        facts = authcache.remember_member(
            db, generation, org_id, user_id, membership.role, membership.status
        )
    return facts


async def _member_facts(db: AsyncSession, org_id: str, user_id: int) -> authcache.MemberFacts:
    facts = await member_facts(db, org_id, user_id)
    if facts is None or facts.status == "disabled":
        raise forbidden(NO_ACCESS)
    return facts


async def current_actor(
    db: Db,
    principal: Annotated[Principal, Depends(current_principal)],
    org_id: Annotated[str, Path()],
) -> Actor:
    if not principal.may_act_in(org_id):
        raise forbidden(OTHER_ORG_TOKEN)
    membership = await _member_facts(db, org_id, principal.user_id)
    return Actor(
        user_id=principal.user_id,
        org_id=org_id,
        role=membership.role,
        load_user=lambda: principal.user,
        org_bound=principal.bound_org_id is not None,
        email=principal.email,
    )


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
CurrentActor = Annotated[Actor, Depends(current_actor)]


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise forbidden("Only administrators can perform this action.")


def require_not_light(actor: Actor) -> None:
    if actor.is_light:
        raise forbidden("Light members can't perform this action.")
