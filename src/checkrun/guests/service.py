"""Guest rules: idempotent invites by email, members refused, removal detaches from tasks,
conversions between guest and member. No HTTP here: each guest made charges the hourly invite
cap when the request commits (`guests.invites`)."""

from __future__ import annotations

import secrets
import string
from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.groups.repository import GroupsRepository
from checkrun.guests.invites import charge_invite
from checkrun.guests.models import Guest
from checkrun.guests.repository import GuestFilters, GuestsRepository
from checkrun.guests.schemas import GuestCreate, GuestStats, GuestUpdate, ToMember
from checkrun.kit import events
from checkrun.kit.auth import Actor, require_admin, require_not_light
from checkrun.kit.clock import iso, now
from checkrun.kit.errors import bad_request, invalid, invalid_field, not_found
from checkrun.kit.pagination import PageParams
from checkrun.members.models import Membership, User
from checkrun.members.repository import MembersRepository
from checkrun.tasks.models import ReadableTask
from checkrun.tasks.repository import TaskFilters, TasksRepository

CODE_ALPHABET = string.ascii_letters + string.digits
ALREADY_MEMBER = "This email already belongs to a member of the organization."
MEMBER_REFUSAL = "This email belongs to a member of the organization, who can't be a guest."
DEFAULT_ADMIN_REFUSAL = (
    "Cannot modify the default administrator. Please assign another member "
    "as default administrator first."
)
MAX_NAME = 32  # a member's name length


def new_guest_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(32))


async def _invited(db: AsyncSession, guest: Guest, actor: Actor | None) -> None:
    charge_invite(db, guest.org_id)
    await events.emit(
        db,
        events.Event(
            org_id=guest.org_id,
            type="Guest",
            verb="invited",
            entity_type="guest",
            entity_id=str(guest.id),
            description=f"{guest.email} was invited as a guest",
            new_value=guest.email,
            **events.by(actor),
        ),
    )


async def _changed(
    db: AsyncSession, guest: Guest, actor: Actor, verb: str, description: str, **more: Any
) -> None:
    await events.emit(
        db,
        events.Event(
            org_id=guest.org_id,
            type="Guest",
            verb=verb,
            entity_type="guest",
            entity_id=str(guest.id),
            description=description,
            **events.by(actor),
            **more,
        ),
    )


async def _attach(
    db: AsyncSession,
    org_id: str,
    email: str,
    existing: Guest | None,
    body: GuestCreate | None,
    actor: Actor | None,
) -> Guest:
    """The guest row for `email`: brought back if it was removed, created if there is none."""
    repo = GuestsRepository(db)
    if existing is not None:
        if existing.deleted_at is not None:
            existing.deleted_at = None
            existing.updated_at = now()
            await db.flush()
            await _invited(db, existing, actor)
        return existing
    added = await repo.insert(
        {
            "org_id": org_id,
            "email": email,
            "guest_code": new_guest_code(),
            "first_name": body.first_name if body else None,
            "last_name": body.last_name if body else None,
            "details": body.details() if body else {},
            "associated_members": [],
        }
    )
    if added is None:  # another request created it meanwhile
        again = await repo.by_email(org_id, email, removed=True)
        if again is None:
            raise bad_request("The guest could not be created. Please try again.")
        return await _attach(db, org_id, email, again, body, actor)
    await _invited(db, added, actor)
    return added


async def ensure_guests(
    db: AsyncSession,
    org_id: str,
    emails: list[str],
    field: str = "owners.guests",
    actor: Actor | None = None,
    refuse_members: bool = True,
) -> list[Guest]:
    """A guest record for each address given as an assignee (created, or brought back after a
    removal). A member's address is refused with 422 keyed `<field>.<i>`, or skipped when
    `refuse_members` is false (a template's step guests)."""
    wanted = list(dict.fromkeys(e.strip().lower() for e in emails if e and e.strip()))
    if not wanted:
        return []
    repo = GuestsRepository(db)
    members = await repo.member_emails(org_id, wanted)
    if members and refuse_members:
        raise invalid(
            {
                f"{field}.{i}": [MEMBER_REFUSAL]
                for i, e in enumerate(emails)
                if e.strip().lower() in members
            }
        )
    existing = await repo.by_emails(org_id, wanted)
    return [
        await _attach(db, org_id, email, existing.get(email), None, actor)
        for email in wanted
        if email not in members
    ]


async def ensure_run_guests(
    db: AsyncSession, org_id: str, run_id: str, actor: Actor | None = None
) -> None:
    """After a launch: the guests its tasks went to (the template's step guests, overrides and
    rules) are guests of the organization. A member's address there is left as it is."""
    emails = await GuestsRepository(db).guest_refs_of_run(run_id)
    await ensure_guests(db, org_id, emails, actor=actor, refuse_members=False)


async def create_guest(db: AsyncSession, actor: Actor, body: GuestCreate) -> Guest:
    """Idempotent by email: an existing guest (even a removed one) is returned, not doubled;
    the fields sent then change nothing."""
    require_not_light(actor)
    repo = GuestsRepository(db)
    if await repo.member_emails(actor.org_id, [body.email]):
        raise invalid_field("email", MEMBER_REFUSAL)
    existing = await repo.by_email(actor.org_id, body.email, removed=True)
    return await _attach(db, actor.org_id, body.email, existing, body, actor)


def _address(text: str) -> str:
    return text.strip().lower()


async def get_guest(db: AsyncSession, actor: Actor, email: str) -> Guest:
    guest = await GuestsRepository(db).by_email(actor.org_id, _address(email))
    if guest is None:
        raise not_found()
    return guest


async def find_guest(db: AsyncSession, actor: Actor, key: str) -> Guest:
    """A guest by the code of their link, or by email (what contains an @)."""
    if "@" in key:
        return await get_guest(db, actor, key)
    guest = await GuestsRepository(db).by_code(actor.org_id, key.strip())
    if guest is None:
        raise not_found()
    return guest


async def stats_of(db: AsyncSession, org_id: str, guests: list[Guest]) -> dict[int, GuestStats]:
    counts = await GuestsRepository(db).task_counts(org_id, [g.email for g in guests])
    out: dict[int, GuestStats] = {}
    for guest in guests:
        c = counts.get(guest.email)
        out[guest.id] = (
            GuestStats()
            if c is None
            else GuestStats(
                assigned_tasks=c.assigned,
                tasks_completed=c.completed,
                last_task_completed_at=iso(c.last_completed_at),
                one_off_tasks_completed=c.one_off_completed,
                last_one_off_task_completed_at=iso(c.last_one_off_completed_at),
            )
        )
    return out


async def list_guests(
    db: AsyncSession, actor: Actor, page: PageParams, filters: GuestFilters
) -> tuple[list[Guest], int]:
    return await GuestsRepository(db).search(actor.org_id, page, filters)


async def update_guest(db: AsyncSession, actor: Actor, email: str, body: GuestUpdate) -> Guest:
    """Only `associated_members` (members of the organization) changes, and it replaces."""
    guest = await get_guest(db, actor, email)
    require_not_light(actor)
    if body.associated_members is None:
        return guest
    wanted = list(dict.fromkeys(body.associated_members))
    known = await MembersRepository(db).existing_user_ids(actor.org_id, wanted)
    errors = {
        f"associated_members.{i}": ["The selected associated members is invalid."]
        for i, user_id in enumerate(body.associated_members)
        if user_id not in known
    }
    if errors:
        raise invalid(errors)
    old = list(guest.associated_members or [])
    guest.associated_members = wanted
    guest.updated_at = now()
    await db.flush()
    await _changed(
        db,
        guest,
        actor,
        "updated",
        f"{guest.email}'s associated members changed",
        field="associated_members",
        old_value=old,
        new_value=wanted,
    )
    return guest


async def set_disabled(db: AsyncSession, actor: Actor, email: str, disabled: bool) -> Guest:
    """Disable or enable; doing it twice changes nothing the second time."""
    require_admin(actor)
    guest = await get_guest(db, actor, email)
    if guest.is_disabled == disabled:
        return guest
    if disabled:
        guest.disabled_at, guest.disabled_by = now(), actor.user_id
    else:
        guest.disabled_at, guest.disabled_by = None, None
        guest.reactivated_at, guest.reactivated_by = now(), actor.user_id
    guest.updated_at = now()
    await db.flush()
    verb = "disabled" if disabled else "enabled"
    await _changed(db, guest, actor, verb, f"{guest.email} was {verb}")
    return guest


async def remove_guest(db: AsyncSession, actor: Actor, email: str) -> Guest:
    """Detaches the guest from every task of the organization and removes them; an address
    that is not a guest here is 422 (as documented), not 404."""
    require_admin(actor)
    guest = await GuestsRepository(db).by_email(actor.org_id, _address(email))
    if guest is None:
        raise invalid_field("email", "The selected email is not a guest of this organization.")
    await GuestsRepository(db).detach_from_tasks(actor.org_id, guest.email)
    guest.deleted_at = guest.updated_at = now()
    await db.flush()
    await _changed(db, guest, actor, "deleted", f"{guest.email} was removed")
    return guest


async def purge_guest(db: AsyncSession, actor: Actor, email: str) -> None:
    """Permanent, as a member's: only a guest disabled or removed first. The row goes, with
    their assignments and group places; activity and comments stay (they are history)."""
    require_admin(actor)
    repo = GuestsRepository(db)
    guest = await repo.by_email(actor.org_id, _address(email), removed=True)
    if guest is None:
        raise not_found()
    if guest.deleted_at is None and not guest.is_disabled:
        raise invalid_field(
            "status", "Disable or remove the guest before deleting them permanently."
        )
    await repo.detach_from_tasks(actor.org_id, guest.email)
    await GroupsRepository(db).remove_guest(actor.org_id, guest.email)
    await _changed(
        db, guest, actor, "deleted", f"{guest.email} was deleted", extra={"permanent": True}
    )
    await repo.delete(guest)
    await db.flush()


async def list_guest_tasks(
    db: AsyncSession, actor: Actor, key: str, page: PageParams, filters: TaskFilters
) -> tuple[list[ReadableTask], int]:
    guest = await find_guest(db, actor, key)
    return await TasksRepository(db).search(
        actor.org_id, page, replace(filters, guests=(guest.email,))
    )


async def guest_to_member(
    db: AsyncSession, actor: Actor, email: str, body: ToMember
) -> tuple[User, Membership]:
    """The guest becomes a member with `role`; their tasks move to the member and the guest
    record is removed."""
    require_admin(actor)
    guest = await get_guest(db, actor, email)
    members = MembersRepository(db)
    user = await members.user_by_email(guest.email)
    if user is None:
        user = User(
            email=guest.email,
            first_name=(guest.first_name or "")[:MAX_NAME],
            last_name=(guest.last_name or "")[:MAX_NAME],
        )
        members.add(user)
        await db.flush()
    elif await members.membership(actor.org_id, user.id) is not None:
        raise invalid_field("email", ALREADY_MEMBER)
    membership = Membership(
        org_id=actor.org_id, user_id=user.id, role=body.role, invited_by=actor.user_id
    )
    members.add(membership)
    repo = GuestsRepository(db)
    await repo.move_assignments(actor.org_id, ("guest", guest.email), ("user", str(user.id)))
    guest.deleted_at = guest.updated_at = now()
    await db.flush()
    await _changed(db, guest, actor, "deleted", f"{guest.email} became a member")
    await events.emit(
        db,
        events.Event(
            org_id=actor.org_id,
            type="User",
            verb="created",
            entity_type="user",
            entity_id=str(user.id),
            description=f"{guest.email} was converted from a guest",
            **events.by(actor),
        ),
    )
    return user, membership


async def member_to_guest(db: AsyncSession, actor: Actor, user_id: int) -> Guest:
    """The member leaves the organization and comes back as a guest; their task assignments
    here move to the guest. The default administrator and bot users can't be converted."""
    require_admin(actor)
    members = MembersRepository(db)
    found = await members.member(actor.org_id, user_id)
    if found is None:
        raise not_found()
    user, membership = found
    if membership.is_default_admin:
        raise bad_request(DEFAULT_ADMIN_REFUSAL)
    if membership.type == "bot":
        raise bad_request("A bot user can't be converted to a guest.")
    repo = GuestsRepository(db)
    await repo.remove_membership(membership)
    await members.revoke_tokens(actor.org_id, user.id, now())
    await db.flush()
    email = user.email.strip().lower()
    existing = await repo.by_email(actor.org_id, email, removed=True)
    body = GuestCreate(
        email=email, first_name=user.first_name or None, last_name=user.last_name or None
    )
    guest = await _attach(db, actor.org_id, email, existing, body, actor)
    await repo.move_assignments(actor.org_id, ("user", str(user.id)), ("guest", email))
    await events.emit(
        db,
        events.Event(
            org_id=actor.org_id,
            type="User",
            verb="deleted",
            entity_type="user",
            entity_id=str(user.id),
            description=f"{email} was converted to a guest",
            **events.by(actor),
        ),
    )
    return guest
