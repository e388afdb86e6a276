"""Every SQL statement of the webhooks domain: watchers, the outbox, secrets, and the few reads
the payloads need that other domains do not offer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.files.models import Asset
from checkrun.guests.models import Guest
from checkrun.kit import leases
from checkrun.kit.locking import transaction_memo
from checkrun.kit.pagination import PageParams
from checkrun.kit.repository import ORG_ID, Repository, scope
from checkrun.members.models import Membership, User
from checkrun.orgs.models import Organization
from checkrun.webhooks.models import DEAD, PENDING, Delivery, Watcher, WebhookSecret


@cache
def _watcher_urls() -> Select[str]:
    """Built once: building a statement and its cache key costs more than running it."""
    return (
        select(Watcher.webhook)
        .where(scope(Watcher, ORG_ID), Watcher.notification_type == "webhook")
        .order_by(Watcher.created_at, Watcher.id)
    )


def has_watchers() -> ColumnElement[bool]:
    """Whether `watcher_urls` can answer any URL: a column for a statement that reads the
    organization's row anyway, which then tells `note_watchers`."""
    webhook = Watcher.notification_type == "webhook"
    return exists().where(Watcher.org_id == Organization.id, webhook)


def note_watchers(db: AsyncSession, org_id: str, watched: bool) -> None:
    """What `has_watchers` read in this transaction: `watcher_urls` then reads none for an
    organization that has none."""
    _watched(db)[org_id] = watched


def _watched(db: AsyncSession) -> dict[str, bool]:
    return transaction_memo(db, "webhook_watchers", dict)


class WebhooksRepository(Repository):
    # -- watchers -----------------------------------------------------------------------------

    async def watchers(
        self, org_id: str, page: PageParams, notification: str | None
    ) -> tuple[list[Watcher], int]:
        stmt = select(Watcher).where(self.scope(Watcher, org_id))
        if notification:
            stmt = stmt.where(Watcher.notification_type == notification)
        total = await self.db.execute(stmt.with_only_columns(func.count()))
        rows = await self.db.execute(
            stmt.order_by(Watcher.created_at, Watcher.id).offset(page.offset).limit(page.per_page)
        )
        return list(rows.scalars()), int(total.scalar_one())

    async def watcher(self, org_id: str, watcher_id: str) -> Watcher | None:
        return await self.one(Watcher, watcher_id, org_id)

    async def delete_watcher(self, org_id: str, watcher_id: str) -> None:
        await self.db.execute(
            delete(Watcher).where(self.scope(Watcher, org_id), Watcher.id == watcher_id)
        )

    async def watcher_urls(self, org_id: str) -> list[str]:
        """Read for every event that may have watchers (each launch and completion), unless
        this transaction read that the organization has none (`note_watchers`)."""
        if _watched(self.db).get(org_id) is False:
            return []
        rows = await self.db.execute(_watcher_urls(), {ORG_ID.key: org_id})
        return list(dict.fromkeys(rows.scalars()))

    # -- reads for payloads -------------------------------------------------------------------

    async def people(self, org_id: str, user_ids: Sequence[int | None]) -> dict[int, User]:
        """Members of the organization by id (others, and None, are left out)."""
        wanted = {u for u in user_ids if u is not None}
        if not wanted:
            return {}
        rows = await self.db.execute(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(self.scope(Membership, org_id), User.id.in_(wanted))
        )
        return {user.id: user for user in rows.scalars()}

    async def guest_codes(self, org_id: str, emails: Sequence[str]) -> dict[str, str]:
        """The access code of each (live) guest of the organization by email."""
        if not emails:
            return {}
        rows = await self.db.execute(
            select(Guest.email, Guest.guest_code).where(
                self.scope(Guest, org_id), Guest.email.in_([e.lower() for e in emails])
            )
        )
        return {email: code for email, code in rows.all()}

    async def assets_of_task(self, org_id: str, task_id: str) -> list[Asset]:
        rows = await self.db.execute(
            select(Asset)
            .where(self.scope(Asset, org_id), Asset.task_id == task_id)
            .order_by(Asset.uploaded_at, Asset.id)
        )
        return list(rows.scalars())

    # -- outbox -------------------------------------------------------------------------------

    def add(self, *objs: object) -> None:
        for obj in objs:
            if isinstance(obj, Watcher):  # what this transaction read of its watchers is past
                _watched(self.db).pop(obj.org_id, None)
        self.db.add_all(objs)

    async def due_ids(self, moment: datetime, limit: int) -> list[str]:
        return await leases.due_ids(self.db, Delivery, moment, limit)

    async def claim(
        self, ids: list[str], moment: datetime, token: str, until: datetime
    ) -> list[Delivery]:
        return await leases.claim(self.db, Delivery, ids, moment, token, until)

    async def record_attempt(self, delivery_id: str, token: str, values: dict[str, Any]) -> None:
        """Writes the outcome, if this worker still holds the lease."""
        await leases.record(self.db, Delivery, delivery_id, token, values)

    async def requeue_dead(self, org_id: str | None, moment: datetime) -> int:
        stmt = update(Delivery).where(Delivery.status == DEAD)
        if org_id:
            stmt = stmt.where(self.scope(Delivery, org_id))
        result = await self.db.execute(
            stmt.values(status=PENDING, attempts=0, next_attempt_at=moment)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    # -- secrets ------------------------------------------------------------------------------

    async def secret(self, org_id: str) -> str | None:
        found = await self.db.get(WebhookSecret, org_id)
        return found.secret if found else None

    async def keep_secret(self, org_id: str, secret: str) -> str:
        """Stores `secret` unless the organization has one already; answers the stored one.
        Safe when two processes do it at once."""
        dialect = self.db.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        await self.db.execute(
            insert(WebhookSecret)
            .values(org_id=org_id, secret=secret)
            .on_conflict_do_nothing(index_elements=["org_id"])
        )
        row = await self.db.execute(
            select(WebhookSecret.secret).where(self.scope(WebhookSecret, org_id))
        )
        return str(row.scalar_one())

    async def organization_ids(self) -> list[str]:
        rows = await self.db.execute(select(Organization.id).order_by(Organization.created_at))
        return list(rows.scalars())
