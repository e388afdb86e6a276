"""Tables of the webhooks domain: org-level watchers, the delivery outbox, signing secrets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from checkrun.db import Base, UTCDateTime
from checkrun.kit.clock import now
from checkrun.kit.ids import new_id

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


class Watcher(Base):
    """An org-level webhook subscription (`add-watcher` with notification_type=webhook)."""

    __tablename__ = "webhook_watchers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    object_type: Mapped[str] = mapped_column(String(32), default="organization")
    object_id: Mapped[str] = mapped_column(String(32))
    notification_type: Mapped[str] = mapped_column(String(16), default="webhook")
    frequency: Mapped[str] = mapped_column(String(16), default="electric")
    webhook: Mapped[str] = mapped_column(String(2000))
    created_by: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)


class Delivery(Base):
    """One POST of one event to one URL: the outbox row, written in the transaction of the
    change, then sent (and retried) by the delivery worker."""

    __tablename__ = "webhook_deliveries"
    # The worker's claim query: due pending rows in order.
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2000))
    # The exact bytes sent (UTF-8 JSON), fixed when the change commits.
    body: Mapped[str] = mapped_column(Text)
    # template | step | task | watcher: which setting asked for it.
    source: Mapped[str] = mapped_column(String(16))
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    task_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # A worker owns the row until lease_until; after that (a crash) another may take it.
    lease_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class WebhookSecret(Base):
    """The HMAC key of an organization's deliveries (unless CHECKRUN_WEBHOOK_SECRET is set)."""

    __tablename__ = "webhook_secrets"

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
