"""The hourly cap on guest invites (30 per hour per organization), charged at the request
boundary because the limiter lives on the app: a route that may create guests calls
`charge_invites` after its service and before it commits, so a refusal (429) also undoes the
invites it refuses."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from checkrun.guests.service import NEW_GUESTS, new_guests
from checkrun.kit.ratelimit import hourly_cap

INVITES_PER_HOUR = 30


async def charge_invites(request: Request, db: AsyncSession, org_id: str) -> None:
    """One hit of the cap for each guest this request created (or brought back)."""
    for _ in new_guests(db):
        await hourly_cap(request, org_id, "guest_invite", "Guest Invite", INVITES_PER_HOUR)
    db.info.pop(NEW_GUESTS, None)
