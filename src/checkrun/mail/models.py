"""Tables of the mail domain: the outbox, each person's choices, and their preference links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from checkrun.db import Base, UTCDateTime
from checkrun.kit.clock import now
from checkrun.kit.ids import new_id

# pending: to send; sent; dead: given up after the last attempt; held: waiting for the
# recipient's daily digest; digested: went out inside a digest.
PENDING, SENT, DEAD, HELD, DIGESTED = "pending", "sent", "dead", "held", "digested"


class MailMessage(Base):
    """One email to one address: written in the transaction of the change that causes it
    (rendered then), sent and retried afterwards by the mail worker."""

    __tablename__ = "mail_outbox"
    __table_args__ = (
        # The worker's claim query: due pending rows in order.
        Index("ix_mail_outbox_due", "status", "next_attempt_at"),
        # A digest gathers the held rows of one recipient in one organization.
        Index("ix_mail_outbox_held", "org_id", "to_email", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    to_email: Mapped[str] = mapped_column(String(254))
    to_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    guest_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    subject: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    # The same logical email is written once, however often its cause is seen (a reminder for
    # one deadline of one task to one person): inserts on a taken key do nothing.
    dedupe_key: Mapped[str | None] = mapped_column(String(255), nullable=True, unique=True)
    # Ids of the task / run it is about, for the digest and for operators.
    task_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # A worker owns the row until lease_until; after that (a crash) another may take it.
    lease_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class MailPreference(Base):
    """What one address (a member's or a guest's) chose for one kind in one organization; a
    kind without a row is at its default (kinds.DEFAULT_MODES)."""

    __tablename__ = "mail_preferences"
    __table_args__ = (UniqueConstraint("org_id", "email", "kind"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(32))
    mode: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)


class PreferenceLink(Base):
    """The secret of one address's preferences page in one organization: the link in every
    email's footer opens that page without signing in (as unsubscribe links must)."""

    __tablename__ = "mail_preference_links"
    __table_args__ = (UniqueConstraint("org_id", "email"),)

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class DigestSchedule(Base):
    """When one address's next daily digest is due (06:00 in the member's timezone): the
    digest job reads only due rows through `next_at`, and moves `next_at` on in the
    transaction that writes the digest, so each digest is written once. A row exists while the
    address wants a digest (its `daily_digest` mode, or any kind held for it)."""

    __tablename__ = "mail_digest_schedule"
    __table_args__ = (UniqueConstraint("org_id", "email"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    next_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
