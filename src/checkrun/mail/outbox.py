"""Writing email into the outbox, in the caller's transaction: the change and its emails commit
together (a rolled-back change sends nothing) and the worker sends them afterwards."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.db import settings_of
from checkrun.kit.wakeup import MAIL
from checkrun.mail import kinds
from checkrun.mail.models import HELD, PENDING
from checkrun.mail.prefs import mode_for
from checkrun.mail.repository import MailRepository


@dataclass(frozen=True)
class Message:
    """One rendered email to one address."""

    org_id: str
    kind: str
    to_email: str
    subject: str
    text: str
    html: str
    to_name: str | None = None
    user_id: int | None = None
    guest_id: int | None = None
    task_id: str | None = None
    run_id: str | None = None
    dedupe_key: str | None = None


def mail_enabled(db: AsyncSession) -> bool:
    settings = settings_of(db)
    return settings is not None and settings.mail_enabled


async def enqueue(db: AsyncSession, message: Message) -> bool:
    """Queues `message` as its recipient chose for its kind: now (pending), for their daily
    digest (held), or not at all. Nothing is written while email is not configured. True when a
    row was written."""
    if not mail_enabled(db):
        return False
    mode = (
        "instant"
        if message.kind in kinds.ALWAYS_SENT
        else await mode_for(db, message.org_id, message.to_email, message.kind)
    )
    if mode == "off":
        return False
    status = HELD if mode == "digest" else PENDING
    values = {**asdict(message), "to_email": message.to_email.lower(), "status": status}
    written = await MailRepository(db).add_message(values)
    if written and status == PENDING:
        MAIL.after_commit(db)
    return written
