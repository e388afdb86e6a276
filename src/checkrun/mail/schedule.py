"""When an address's daily digest is due: 06:00 in the member's timezone (UTC for guests and
unknown zones), kept in `mail_digest_schedule` while the address wants a digest."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit.clock import now
from checkrun.mail import kinds
from checkrun.mail.people import zone_of
from checkrun.mail.repository import DigestRepository, MailRepository
from checkrun.members.repository import MembersRepository

MORNING = time(6, 0)


def next_morning(moment: datetime, timezone: str | None) -> datetime:
    """The first 06:00 local time strictly after `moment`, in UTC (DST-aware: the wall clock
    says 06:00 on both sides of a change)."""
    zone = zone_of(timezone)
    local = moment.astimezone(zone)
    day = local.date()
    candidate = datetime.combine(day, MORNING, tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(day + timedelta(days=1), MORNING, tzinfo=zone)
    return candidate.astimezone(UTC)


def wants_digest(modes: dict[str, str]) -> bool:
    """The digest is chosen, or some kind is held for it (held mail must go out some day)."""
    return any(mode == "digest" for mode in modes.values())


async def timezone_of(db: AsyncSession, org_id: str, email: str) -> str:
    found = await MembersRepository(db).member_by_email(org_id, email)
    return (found[0].timezone or "UTC") if found else "UTC"


async def refresh(db: AsyncSession, org_id: str, email: str) -> None:
    """Makes the address's schedule agree with its modes (after they change)."""
    chosen = await MailRepository(db).modes(org_id, email)
    modes = {kind: chosen.get(kind, default) for kind, default in kinds.DEFAULT_MODES.items()}
    repo = DigestRepository(db)
    if not wants_digest(modes):
        await repo.unschedule(org_id, email)
        return
    await repo.schedule(org_id, email, next_morning(now(), await timezone_of(db, org_id, email)))
