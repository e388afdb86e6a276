"""Every SQL statement of the mail domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from checkrun.kit.clock import now
from checkrun.kit.ids import new_id
from checkrun.kit.repository import Repository
from checkrun.kit.sql import insert_ignoring_conflicts
from checkrun.mail.models import (
    DIGESTED,
    HELD,
    DigestSchedule,
    MailMessage,
    MailPreference,
    PreferenceLink,
)


class MailRepository(Repository):
    async def add_message(self, values: dict[str, Any]) -> bool:
        """Writes one outbox row; False when its dedupe key was taken already."""
        row = {"id": new_id(), **values}
        if row.get("dedupe_key") is None:
            self.db.add(MailMessage(**row))
            return True
        stmt = insert_ignoring_conflicts(self.db, MailMessage, _with_defaults(row), ["dedupe_key"])
        result = await self.db.execute(stmt)
        return bool(getattr(result, "rowcount", 0))

    async def modes(self, org_id: str, email: str) -> dict[str, str]:
        rows = await self.db.execute(
            select(MailPreference.kind, MailPreference.mode).where(
                self.scope(MailPreference, org_id), MailPreference.email == email.lower()
            )
        )
        return {kind: mode for kind, mode in rows.all()}

    async def set_mode(self, org_id: str, email: str, kind: str, mode: str) -> None:
        found = await self.db.scalar(
            select(MailPreference).where(
                self.scope(MailPreference, org_id),
                MailPreference.email == email.lower(),
                MailPreference.kind == kind,
            )
        )
        if found is None:
            self.db.add(MailPreference(org_id=org_id, email=email.lower(), kind=kind, mode=mode))
        else:
            found.mode = mode

    async def link_token(self, org_id: str, email: str, fresh: str) -> str:
        """The preference link's token of this address, made (as `fresh`) on first use."""
        await self.db.execute(
            insert_ignoring_conflicts(
                self.db,
                PreferenceLink,
                {"token": fresh, "org_id": org_id, "email": email.lower(), "created_at": now()},
                ["org_id", "email"],
            )
        )
        token = await self.db.scalar(
            select(PreferenceLink.token).where(
                self.scope(PreferenceLink, org_id), PreferenceLink.email == email.lower()
            )
        )
        return str(token)

    async def link_owner(self, token: str) -> PreferenceLink | None:
        return await self.db.get(PreferenceLink, token)


class DigestRepository(Repository):
    """The daily digest's schedule and the held rows it gathers."""

    async def schedule(self, org_id: str, email: str, next_at: datetime) -> None:
        """Keeps the address's schedule (an existing one keeps its next moment)."""
        await self.db.execute(
            insert_ignoring_conflicts(
                self.db,
                DigestSchedule,
                {
                    "id": new_id(),
                    "org_id": org_id,
                    "email": email.lower(),
                    "next_at": next_at,
                    "created_at": now(),
                },
                ["org_id", "email"],
            )
        )

    async def unschedule(self, org_id: str, email: str) -> None:
        await self.db.execute(
            delete(DigestSchedule).where(
                self.scope(DigestSchedule, org_id), DigestSchedule.email == email.lower()
            )
        )

    async def scheduled(self, org_id: str, email: str) -> DigestSchedule | None:
        return await self.db.scalar(
            select(DigestSchedule).where(
                self.scope(DigestSchedule, org_id), DigestSchedule.email == email.lower()
            )
        )

    async def due(self, moment: datetime, limit: int) -> list[DigestSchedule]:
        """The schedules due at `moment`, oldest first (through the `next_at` index)."""
        rows = await self.db.execute(
            select(DigestSchedule)
            .where(DigestSchedule.next_at <= moment)
            .order_by(DigestSchedule.next_at, DigestSchedule.id)
            .limit(limit)
        )
        return list(rows.scalars())

    async def advance(self, row: DigestSchedule, next_at: datetime, sent_at: datetime) -> bool:
        """Moves the schedule on if nobody did since it was read: True for the one caller that
        did (the one that writes this digest)."""
        result = await self.db.execute(
            update(DigestSchedule)
            .where(DigestSchedule.id == row.id, DigestSchedule.next_at == row.next_at)
            .values(next_at=next_at, last_sent_at=sent_at)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def held(self, org_id: str, email: str, limit: int) -> list[MailMessage]:
        rows = await self.db.execute(
            select(MailMessage)
            .where(
                self.scope(MailMessage, org_id),
                MailMessage.to_email == email.lower(),
                MailMessage.status == HELD,
            )
            .order_by(MailMessage.created_at, MailMessage.id)
            .limit(limit)
        )
        return list(rows.scalars())

    async def mark_digested(self, ids: list[str]) -> None:
        if ids:
            await self.db.execute(
                update(MailMessage)
                .where(MailMessage.id.in_(ids), MailMessage.status == HELD)
                .values(status=DIGESTED, sent_at=now())
                .execution_options(synchronize_session=False)
            )


def _with_defaults(row: dict[str, Any]) -> dict[str, Any]:
    """Core inserts skip the ORM's Python-side defaults: fill them in."""
    moment = now()
    return {
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": moment,
        "created_at": moment,
        **row,
    }
