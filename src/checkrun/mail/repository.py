"""Every SQL statement of the mail domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit.clock import now
from checkrun.kit.ids import new_id
from checkrun.kit.sql import insert_ignoring_conflicts
from checkrun.mail.models import MailMessage, MailPreference, PreferenceLink


class MailRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def add_message(self, values: dict[str, Any]) -> bool:
        """Writes one outbox row; False when its dedupe key was taken already."""
        row = {"id": new_id(), **values}
        if row.get("dedupe_key") is None:
            self.db.add(MailMessage(**row))
            return True
        stmt = insert_ignoring_conflicts(self.db, MailMessage, _with_defaults(row),
                                         ["dedupe_key"])
        result = await self.db.execute(stmt)
        return bool(getattr(result, "rowcount", 0))

    async def modes(self, org_id: str, email: str) -> dict[str, str]:
        rows = await self.db.execute(
            select(MailPreference.kind, MailPreference.mode).where(
                MailPreference.org_id == org_id, MailPreference.email == email.lower()))
        return {kind: mode for kind, mode in rows.all()}

    async def set_mode(self, org_id: str, email: str, kind: str, mode: str) -> None:
        found = await self.db.scalar(select(MailPreference).where(
            MailPreference.org_id == org_id, MailPreference.email == email.lower(),
            MailPreference.kind == kind))
        if found is None:
            self.db.add(MailPreference(org_id=org_id, email=email.lower(), kind=kind, mode=mode))
        else:
            found.mode = mode

    async def link_token(self, org_id: str, email: str, fresh: str) -> str:
        """The preference link's token of this address, made (as `fresh`) on first use."""
        await self.db.execute(insert_ignoring_conflicts(
            self.db, PreferenceLink,
            {"token": fresh, "org_id": org_id, "email": email.lower(),
             "created_at": now()}, ["org_id", "email"]))
        token = await self.db.scalar(select(PreferenceLink.token).where(
            PreferenceLink.org_id == org_id, PreferenceLink.email == email.lower()))
        return str(token)

    async def link_owner(self, token: str) -> PreferenceLink | None:
        return await self.db.get(PreferenceLink, token)


def _with_defaults(row: dict[str, Any]) -> dict[str, Any]:
    """Core inserts skip the ORM's Python-side defaults: fill them in."""
    moment = now()
    return {"status": "pending", "attempts": 0, "next_attempt_at": moment,
            "created_at": moment, **row}
