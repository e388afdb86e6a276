"""Who chose what: each address's mode per kind in one organization."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.mail import kinds, schedule
from checkrun.mail.repository import MailRepository


async def modes_of(db: AsyncSession, org_id: str, email: str) -> dict[str, str]:
    """Every choosable kind's mode for this address (defaults where nothing was chosen)."""
    chosen = await MailRepository(db).modes(org_id, email)
    return {kind: chosen.get(kind, default) for kind, default in kinds.DEFAULT_MODES.items()}


async def mode_for(db: AsyncSession, org_id: str, email: str, kind: str) -> str:
    if kind in kinds.ALWAYS_SENT:
        return "instant"
    return (await modes_of(db, org_id, email)).get(kind, "instant")


async def set_modes(db: AsyncSession, org_id: str, email: str, chosen: dict[str, str]) -> None:
    """Saves the given kinds' modes; unknown kinds or modes are the caller's to refuse. The
    address's digest schedule follows in the same transaction."""
    repo = MailRepository(db)
    for kind, mode in chosen.items():
        await repo.set_mode(org_id, email, kind, mode)
    await db.flush()
    await schedule.refresh(db, org_id, email)
