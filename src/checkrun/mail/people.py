"""Who an email goes to: a task's assignees (members, guests, and the people of its groups) as
addresses with a name, the page they open and the timezone they read dates in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.groups.repository import GroupsRepository
from checkrun.guests.models import Guest
from checkrun.guests.repository import GuestsRepository
from checkrun.members.models import Membership, User
from checkrun.members.repository import MembersRepository

APP = "/app"


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    user_id: int | None = None
    guest_id: int | None = None
    guest_code: str | None = None
    timezone: str = "UTC"

    @property
    def is_guest(self) -> bool:
        return self.guest_code is not None

    def task_url(self, base: str, task_id: str) -> str:
        """A guest opens the task through their guest link; a member through the app."""
        if self.guest_code is not None:
            return f"{base}{APP}/guest/{self.guest_code}/tasks/{task_id}"
        return f"{base}{APP}/tasks/{task_id}"

    def home_url(self, base: str) -> str:
        if self.guest_code is not None:
            return f"{base}{APP}/guest/{self.guest_code}"
        return f"{base}{APP}/tasks"

    def when(self, moment: datetime | None) -> str:
        """A date as the recipient reads it: in their timezone (members), else UTC."""
        if moment is None:
            return ""
        zone = zone_of(self.timezone)
        local = moment.astimezone(zone)
        label = "UTC" if zone is UTC else self.timezone
        return local.strftime("%a %d %b %Y, %H:%M ") + label


def zone_of(name: str | None) -> Any:
    """The named IANA timezone; UTC when it is empty or unknown."""
    if not name or name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def process_url(base: str, run_id: str) -> str:
    return f"{base}{APP}/processes/{run_id}"


def member_person(user: User) -> Person:
    return Person(
        email=user.email.lower(),
        name=user.full_name or user.email,
        user_id=user.id,
        timezone=user.timezone or "UTC",
    )


def guest_person(guest: Guest) -> Person:
    name = f"{guest.first_name or ''} {guest.last_name or ''}".strip() or guest.email
    return Person(
        email=guest.email.lower(), name=name, guest_id=guest.id, guest_code=guest.guest_code
    )


def _reachable_member(membership: Membership) -> bool:
    return membership.status != "disabled" and not membership.is_bot


def _reachable_guest(guest: Guest) -> bool:
    return guest.deleted_at is None and guest.disabled_at is None


@dataclass
class Directory:
    """The people behind some owner lists of one organization, loaded in a few queries."""

    members: dict[int, Person] = field(default_factory=dict)
    guests: dict[str, Person] = field(default_factory=dict)
    groups: dict[str, tuple[list[int], list[str]]] = field(default_factory=dict)

    def people_of(self, owners: dict[str, list[Any]] | None) -> list[Person]:
        """Everyone an owner list reaches, each address once, members first."""
        owners = owners or {}
        user_ids = [int(u) for u in owners.get("users") or []]
        emails = [str(g).lower() for g in owners.get("guests") or []]
        for group_id in owners.get("groups") or []:
            members, guests = self.groups.get(str(group_id), ([], []))
            user_ids += members
            emails += guests
        found = [self.members[u] for u in user_ids if u in self.members]
        found += [self.guests[e] for e in emails if e in self.guests]
        unique: dict[str, Person] = {}
        for person in found:
            unique.setdefault(person.email, person)
        return list(unique.values())


async def directory(
    db: AsyncSession, org_id: str, owner_lists: Iterable[dict[str, list[Any]] | None]
) -> Directory:
    lists = [o or {} for o in owner_lists]
    user_ids = {int(u) for o in lists for u in o.get("users") or []}
    emails = {str(g).lower() for o in lists for g in o.get("guests") or []}
    out = Directory()
    groups = GroupsRepository(db)
    for group_id in {str(g) for o in lists for g in o.get("groups") or []}:
        group = await groups.get(org_id, group_id)
        if group is None:
            continue
        members = [m.user_id for m in group.members]
        guests = [g.email.lower() for g in group.guests]
        out.groups[group_id] = (members, guests)
        user_ids.update(members)
        emails.update(guests)
    await _load(db, org_id, out, sorted(user_ids), sorted(emails))
    return out


async def _load(
    db: AsyncSession, org_id: str, out: Directory, user_ids: list[int], emails: list[str]
) -> None:
    for user, membership in await MembersRepository(db).members(org_id, user_ids):
        if _reachable_member(membership):
            out.members[user.id] = member_person(user)
    for email, guest in (await GuestsRepository(db).by_emails(org_id, emails)).items():
        if _reachable_guest(guest):
            out.guests[email.lower()] = guest_person(guest)


async def members_by_id(
    db: AsyncSession, org_id: str, user_ids: Iterable[int]
) -> dict[int, Person]:
    """Reachable members of this organization among `user_ids`."""
    out = Directory()
    await _load(db, org_id, out, sorted(set(user_ids)), [])
    return out.members
