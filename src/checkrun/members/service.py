"""Users, memberships and tokens: bootstrap of the first org, token issue, user provisioning,
and the member lifecycle (invite, profile, role, disable/enable, remove, permanent delete)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.groups.repository import GroupsRepository
from checkrun.groups.schemas import GroupRead
from checkrun.guests.repository import GuestsRepository
from checkrun.kit import events
from checkrun.kit.auth import Actor, hash_token, require_admin
from checkrun.kit.clock import iso, now
from checkrun.kit.errors import AppError, bad_request, forbidden, invalid_field, not_found
from checkrun.kit.includes import Includes, Wrapped
from checkrun.kit.pagination import PageParams
from checkrun.members.models import AccessToken, Membership, User
from checkrun.members.repository import SORTS, MembersRepository
from checkrun.members.schemas import (
    InviteUser,
    ProfileUpdate,
    ProvisionUser,
    UserBrief,
    UserRead,
)
from checkrun.orgs.models import Organization
from checkrun.orgs.repository import OrgsRepository

PROVISIONED_TOKEN_SECONDS = 7_776_000  # three months, as Tallyfy's app-provisioned user tokens
DEFAULT_SORT = "id"
BOT_REFUSAL = "You can't remove a bot user from this organization!"
BOT_EDIT_REFUSAL = "You can't edit a bot user."
DEFAULT_ADMIN_REFUSAL = (
    "Cannot modify the default administrator. Please assign another member as default "
    "administrator first."
)
# Includes of a member that checkrun has nothing behind yet: answered as empty wrappers.
EMPTY_LIST_INCLUDES = (
    "organizations",
    "preferences",
    "assets",
    "member_watchers",
    "guest_watchers",
    "auth_methods",
)


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
    db: AsyncSession,
    user: User,
    org_id: str,
    ttl_seconds: int | None = None,
    org_bound: bool = False,
) -> str:
    """A token for `user`. `org_bound` when `org_id` mints it rather than the user (an
    organization may never hand out a key to the user's other organizations)."""
    token = _new_token()
    expires = now() + timedelta(seconds=ttl_seconds) if ttl_seconds else None
    db.add(
        AccessToken(
            token_hash=hash_token(token),
            user_id=user.id,
            org_id=org_id,
            expires_at=expires,
            org_bound=org_bound,
            name="provisioned" if org_bound else "personal",
        )
    )
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


GUEST_REFUSAL = (
    "This email belongs to a guest of the organization. Convert the guest to a "
    "member instead (POST /organizations/{org_id}/guests/{email}/to/member)."
)


async def _refuse_taken(db: AsyncSession, org_id: str, email: str) -> None:
    """An address is a member or a guest of an organization, never both."""
    if await MembersRepository(db).member_by_email(org_id, email) is not None:
        raise invalid_field("email", "The email has already been taken.")
    if await GuestsRepository(db).by_email(org_id, email) is not None:
        raise invalid_field("email", GUEST_REFUSAL)


async def provision_user(
    db: AsyncSession, actor: Actor, body: ProvisionUser
) -> tuple[User, Membership]:
    require_admin(actor)
    repo = MembersRepository(db)
    await _refuse_taken(db, actor.org_id, body.email)
    user = await repo.user_by_email(body.email)
    if user is None:
        user = User(
            email=body.email.lower(),
            first_name=body.first_name,
            last_name=body.last_name,
            timezone=body.timezone,
        )
        repo.add(user)
        await db.flush()
    membership = Membership(
        org_id=actor.org_id, user_id=user.id, role=body.role, invited_by=actor.user_id
    )
    repo.add(membership)
    await db.flush()
    return user, membership


async def provisioned_token(db: AsyncSession, actor: Actor, email: str) -> str:
    require_admin(actor)
    found = await MembersRepository(db).member_by_email(actor.org_id, email)
    if found is None:
        raise not_found()
    user, _ = found
    return await issue_token(db, user, actor.org_id, PROVISIONED_TOKEN_SECONDS, org_bound=True)


async def me_in_org(db: AsyncSession, actor: Actor) -> tuple[User, Membership]:
    membership = await MembersRepository(db).membership(actor.org_id, actor.user_id)
    if membership is None:
        raise AppError(403, "You don't have access to this organization.")
    return actor.user, membership


# --- member lifecycle -------------------------------------------------------------------------


def parse_member_id(text: str) -> int:
    """A member id from the path; what can't be one is an unknown member (404)."""
    text = text.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 10) or int(text) == 0:
        raise not_found()
    return int(text)


async def _member(db: AsyncSession, actor: Actor, user_id: str) -> tuple[User, Membership]:
    found = await MembersRepository(db).member(actor.org_id, parse_member_id(user_id))
    if found is None:
        raise not_found()
    return found


def _refuse_protected(membership: Membership, bot_message: str = BOT_REFUSAL) -> None:
    if membership.is_bot:
        raise bad_request(bot_message)
    if membership.is_default_admin:
        raise bad_request(DEFAULT_ADMIN_REFUSAL)


async def _emit(db: AsyncSession, actor: Actor, user: User, verb: str, **fields: Any) -> None:
    await events.emit(
        db,
        events.Event(
            org_id=actor.org_id,
            type="User",
            verb=verb,
            entity_type="user",
            entity_id=str(user.id),
            description=f"{user.full_name or user.email} {verb}",
            **events.by(actor),
            **fields,
        ),
    )


async def read_members(db: AsyncSession, org_id: str, user_ids: list[int]) -> list[UserRead]:
    rows = await MembersRepository(db).members(org_id, user_ids)
    return [UserRead.of(u, m) for u, m in rows]


async def read_with(
    db: AsyncSession, org_id: str, rows: list[tuple[User, Membership]], includes: Includes
) -> list[UserRead]:
    """Member objects with `with=` includes, each wrapped the Fractal way."""
    reads = [UserRead.of(u, m) for u, m in rows]
    ids = [u.id for u, _ in rows]
    if includes.wants("groups"):
        groups = await GroupsRepository(db).of_members(org_id, ids)
        for read in reads:
            read.groups = Wrapped(
                data=[GroupRead.of(g).model_dump() for g in groups.get(read.id, [])]
            )
    if includes.wants("stats"):
        stats = await MembersRepository(db).stats_of(org_id, ids)
        for read in reads:
            read.stats = Wrapped(
                data={**stats[read.id], "steps_created": 0, "last_step_created_at": None}
            )
    for name in EMPTY_LIST_INCLUDES:
        if includes.wants(name):
            for read in reads:
                setattr(read, name, Wrapped(data=[]))
    if includes.wants("country"):
        for read in reads:
            read.country = Wrapped(data=None)
    return reads


async def list_members(
    db: AsyncSession,
    actor: Actor,
    page: PageParams,
    q: str | None,
    sort: str | None,
    includes: Includes,
) -> tuple[list[UserRead], int]:
    order = sort if sort in SORTS else DEFAULT_SORT
    rows, total = await MembersRepository(db).search(actor.org_id, page, q, order)
    return await read_with(db, actor.org_id, rows, includes), total


async def list_brief(db: AsyncSession, actor: Actor) -> list[UserBrief]:
    """Everyone who can be picked: active and invited members (disabled ones are left out)."""
    everyone = PageParams(page=1, per_page=100_000)
    rows, _ = await MembersRepository(db).search(
        actor.org_id, everyone, None, DEFAULT_SORT, statuses=("active", "invited")
    )
    return [UserBrief.of(u, m) for u, m in rows]


async def member_of(db: AsyncSession, actor: Actor, user_id: str) -> tuple[User, Membership]:
    """A member of the caller's organization, for an administrator."""
    require_admin(actor)
    return await _member(db, actor, user_id)


async def get_member(db: AsyncSession, actor: Actor, user_id: str, includes: Includes) -> UserRead:
    require_admin(actor)
    user, membership = await _member(db, actor, user_id)
    (read,) = await read_with(db, actor.org_id, [(user, membership)], includes)
    return read


async def _may_invite(db: AsyncSession, actor: Actor, role: str) -> None:
    if actor.is_admin:
        return
    if role == "admin":
        raise forbidden("Only administrators can invite administrators.")
    org = await OrgsRepository(db).get(actor.org_id)
    allowed = (org.preferences or {}).get("allow_user_invite", True) if org else False
    if actor.is_light or not allowed:
        raise forbidden("Only administrators can invite members to this organization.")


async def invite(db: AsyncSession, actor: Actor, body: InviteUser) -> tuple[User, Membership]:
    """A new member with status `invited`; an existing account (another organization's
    member) is invited as it is, its profile untouched."""
    await _may_invite(db, actor, body.role)
    repo = MembersRepository(db)
    await _refuse_taken(db, actor.org_id, body.email)
    user = await repo.user_by_email(body.email)
    if user is None:
        user = User(email=body.email, first_name=body.first_name, last_name=body.last_name)
        repo.add(user)
        await db.flush()
    membership = Membership(
        org_id=actor.org_id,
        user_id=user.id,
        role=body.role,
        status="invited",
        invited_by=actor.user_id,
    )
    repo.add(membership)
    await db.flush()
    await _emit(db, actor, user, "invited", new_value=body.role)
    return user, membership


def _apply_profile(user: User, body: ProfileUpdate) -> None:
    user.first_name, user.last_name, user.timezone = body.first_name, body.last_name, body.timezone
    for name in (
        "phone",
        "job_title",
        "job_description",
        "team",
        "country_id",
        "date_format",
        "step_preferences",
    ):
        value = getattr(body, name)
        if value is not None:
            setattr(user, name, value)
    user.updated_at = now()


async def update_profile(
    db: AsyncSession, actor: Actor, user_id: str, body: ProfileUpdate
) -> tuple[User, Membership]:
    """Admins edit members; anyone edits themselves. The profile is global, so someone who is
    also a member elsewhere edits it only themselves, with a token of their own."""
    user, membership = await _member(db, actor, user_id)
    own = user.id == actor.user_id
    if not own:
        require_admin(actor)
    if membership.is_bot:
        raise bad_request(BOT_EDIT_REFUSAL)
    by_this_org = not own or actor.org_bound
    if by_this_org and await MembersRepository(db).other_memberships(user.id, actor.org_id):
        raise forbidden(
            "This member belongs to other organizations too: only they can edit their profile."
        )
    _apply_profile(user, body)
    await db.flush()
    await _emit(db, actor, user, "updated")
    return user, membership


async def update_own_profile(
    db: AsyncSession, actor: Actor, body: ProfileUpdate
) -> tuple[User, Membership]:
    return await update_profile(db, actor, str(actor.user_id), body)


async def change_role(
    db: AsyncSession, actor: Actor, user_id: str, role: str
) -> tuple[User, Membership]:
    require_admin(actor)
    user, membership = await _member(db, actor, user_id)
    _refuse_protected(membership, BOT_EDIT_REFUSAL)
    old, membership.role, membership.updated_at = membership.role, role, now()
    await db.flush()
    await _emit(db, actor, user, "updated", field="role", old_value=old, new_value=role)
    return user, membership


async def _disable(db: AsyncSession, actor: Actor, user_id: str) -> tuple[User, Membership]:
    require_admin(actor)
    user, membership = await _member(db, actor, user_id)
    _refuse_protected(membership)
    if membership.status != "disabled":
        moment = now()
        membership.status, membership.disabled_at = "disabled", moment
        membership.disabled_by, membership.updated_at = actor.user_id, moment
    return user, membership


async def disable(db: AsyncSession, actor: Actor, user_id: str) -> tuple[User, Membership]:
    """Disabled: the member's tokens are refused in this organization (403), their task
    assignments stay."""
    user, membership = await _disable(db, actor, user_id)
    await db.flush()
    await _emit(db, actor, user, "disabled")
    return user, membership


async def remove(
    db: AsyncSession, actor: Actor, user_id: str, with_reassignment: bool, to: str | None
) -> tuple[User, Membership]:
    """Removal disables the member; with `with_reassignment=true&to={id}` their assignments
    on open tasks move to that member first."""
    user, membership = await _disable(db, actor, user_id)
    target = None
    if with_reassignment:
        target = await _reassignment_target(db, actor, to, user.id)
        await MembersRepository(db).reassign_open_tasks(actor.org_id, user.id, target)
    await db.flush()
    await _emit(db, actor, user, "deleted", extra={"reassigned_to": target})
    return user, membership


async def _reassignment_target(db: AsyncSession, actor: Actor, to: str | None, user_id: int) -> int:
    """`to` must be another active member of this organization."""
    text = (to or "").strip()
    found = None
    if text.isascii() and text.isdigit() and 0 < len(text) <= 10:
        found = await MembersRepository(db).member(actor.org_id, int(text))
    if found is None or found[1].status != "active" or found[0].id == user_id:
        raise invalid_field("to", "The selected to is invalid.")
    return found[0].id


async def enable(db: AsyncSession, actor: Actor, user_id: str) -> tuple[User, Membership]:
    require_admin(actor)
    user, membership = await _member(db, actor, user_id)
    if membership.status == "disabled":
        moment = now()
        membership.status, membership.reactivated_at = "active", moment
        membership.reactivated_by, membership.updated_at = actor.user_id, moment
        # As for guests: an enabled member is no longer disabled (disabled_at is not history).
        membership.disabled_at, membership.disabled_by = None, None
        await db.flush()
        await _emit(db, actor, user, "enabled")
    return user, membership


async def approve(db: AsyncSession, actor: Actor, user_id: str) -> tuple[User, Membership]:
    """A pending (invited) member becomes active; a disabled one must be enabled instead."""
    require_admin(actor)
    user, membership = await _member(db, actor, user_id)
    if membership.status == "disabled":
        raise invalid_field("status", "A disabled member can't be approved. Enable them.")
    if membership.status == "invited":
        moment = now()
        old, membership.status = membership.status, "active"
        membership.approved_at, membership.updated_at = moment, moment
        await db.flush()
        await _emit(
            db,
            actor,
            user,
            "updated",
            field="status",
            old_value=old,
            new_value="active",
            extra={"approved_at": iso(moment)},
        )
    return user, membership


async def accept_invite(db: AsyncSession, org_id: str, user: User) -> Membership | None:
    """The invited member took their invitation (chose a password from its link): active, as
    an admin's approval makes them. A disabled membership stays disabled."""
    membership = await MembersRepository(db).membership(org_id, user.id)
    if membership is None or membership.status != "invited":
        return membership
    moment = now()
    membership.status, membership.approved_at, membership.updated_at = "active", moment, moment
    await db.flush()
    await events.emit(
        db,
        events.Event(
            org_id=org_id,
            type="User",
            verb="invite-accepted",
            entity_type="user",
            entity_id=str(user.id),
            description=f"{user.full_name or user.email} joined",
            field="status",
            old_value="invited",
            new_value="active",
            actor_id=user.id,
            actor_email=user.email,
            extra={"approved_at": iso(moment)},
        ),
    )
    return membership


async def purge(db: AsyncSession, actor: Actor, user_id: str) -> None:
    """Permanent: only a disabled member; their place in this organization goes (assignments,
    groups, tokens). The account itself stays, as it may belong elsewhere."""
    require_admin(actor)
    user, membership = await _member(db, actor, user_id)
    _refuse_protected(membership)
    if membership.status != "disabled":
        raise invalid_field("status", "Disable the member before deleting them permanently.")
    repo = MembersRepository(db)
    await repo.unassign_everywhere(actor.org_id, user.id)
    await GroupsRepository(db).remove_member(actor.org_id, user.id)
    await repo.revoke_tokens(actor.org_id, user.id, now())
    await _emit(db, actor, user, "deleted", extra={"permanent": True})
    await repo.delete_membership(membership)
    await db.flush()
