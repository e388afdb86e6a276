"""The hourly cap on guest invites (30 per hour per organization). The limiter lives on the app,
so the cap is charged at the request boundary: each guest a request creates (or brings back)
registers one hit, run just before the commit (`kit.unit_of_work.before_commit`), so a refusal
(429) also undoes the invites it refuses."""

from __future__ import annotations

from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from checkrun.kit.ratelimit import hourly_cap
from checkrun.kit.unit_of_work import before_commit

INVITES_PER_HOUR = 30


def charge_invite(db: AsyncSession, org_id: str) -> None:
    """One hit of the cap for a guest made in this transaction, when it commits."""
    before_commit(db, partial(_hit, org_id))


async def _hit(org_id: str, request: Request) -> None:
    await hourly_cap(request, org_id, "guest_invite", "Guest Invite", INVITES_PER_HOUR)
