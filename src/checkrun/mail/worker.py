"""Sends the email outbox in the background, with retries and backoff.

Every `checkrun serve` process with CHECKRUN_SMTP_URL set runs one worker in its event loop
(`kit.leases`: the shape the webhook worker has too). It leases due `pending` rows, sends each
over its own SMTP connection with no database transaction open, and records the outcome: `sent`,
`pending` again after an exponential backoff with jitter, or `dead` after the last attempt or a
final refusal (a 5xx for the recipient or the message)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from checkrun.config import Settings
from checkrun.kit import leases
from checkrun.kit.clock import now
from checkrun.kit.ids import new_id
from checkrun.kit.leases import LeaseWorker
from checkrun.kit.metrics import MAIL_ATTEMPTS
from checkrun.kit.wakeup import MAIL
from checkrun.mail import kinds
from checkrun.mail.links import preferences_url
from checkrun.mail.models import DEAD, PENDING, SENT, MailMessage
from checkrun.mail.transport import COMMANDS_PER_SEND, SmtpTransport

# The attempts counter's outcome for each status an attempt leaves its row in.
OUTCOMES = {SENT: "sent", PENDING: "retry", DEAD: "dead"}

log = logging.getLogger("checkrun.mail")
OFF_NOTICE = (
    "email is off: set CHECKRUN_SMTP_URL (smtp://user:pass@host:port, smtps://... "
    "or ...?starttls=true) and CHECKRUN_MAIL_FROM to send it"
)


@dataclass(frozen=True)
class Outgoing:
    row: MailMessage
    # The recipient's preferences page, for List-Unsubscribe (None: a kind nobody can turn off).
    unsubscribe: str | None


def backoff(settings: Settings, attempts: int) -> float:
    return leases.backoff(
        settings.mail_backoff_seconds, settings.mail_backoff_max_seconds, attempts
    )


class MailWorker(LeaseWorker[Outgoing]):
    label = "mail"

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        super().__init__(sessionmaker, settings, MAIL)
        # Raises ValueError (what is wrong with the configuration) before anything starts.
        self.transport = SmtpTransport(settings)

    @property
    def lease(self) -> timedelta:
        """Longer than one send can take, so that a live worker never loses its row."""
        return timedelta(seconds=self.settings.mail_timeout_seconds * (COMMANDS_PER_SEND + 1) + 30)

    @property
    def poll_seconds(self) -> float:
        return self.settings.mail_poll_seconds

    @property
    def batch_size(self) -> int:
        return self.settings.mail_batch_size

    @property
    def concurrency(self) -> int:
        return max(1, self.settings.mail_concurrency)

    async def claim(self, limit: int) -> list[Outgoing]:
        moment = now()
        token = new_id()
        async with self.sessionmaker() as db:
            ids = await leases.due_ids(db, MailMessage, moment, limit)
            rows = await leases.claim(db, MailMessage, ids, moment, token, moment + self.lease)
            links = {
                (r.org_id, r.to_email): await preferences_url(db, r.org_id, r.to_email)
                for r in rows
                if r.kind not in kinds.ALWAYS_SENT
            }
            await db.commit()
        return [Outgoing(r, links.get((r.org_id, r.to_email))) for r in rows]

    async def process(self, item: Outgoing) -> None:
        row = item.row
        attempt = row.attempts + 1
        outcome = await self.transport.send(row, item.unsubscribe)
        values: dict[str, Any] = {
            "attempts": attempt,
            "last_error": outcome.error,
            "last_attempt_at": now(),
        }
        if outcome.ok:
            values.update(status=SENT, sent_at=now())
        elif outcome.final or attempt >= self.settings.mail_max_attempts:
            values.update(status=DEAD)
            log.warning(
                "email %s (%s) is dead after %d attempt(s): %s",
                row.id,
                row.kind,
                attempt,
                outcome.error,
            )
        else:
            values.update(
                status=PENDING,
                next_attempt_at=now() + timedelta(seconds=backoff(self.settings, attempt)),
            )
        MAIL_ATTEMPTS.labels(OUTCOMES[values["status"]]).inc()
        try:
            async with self.sessionmaker() as db:
                await leases.record(db, MailMessage, row.id, row.lease_token or "", values)
                await db.commit()
        except Exception:  # noqa: BLE001 - the lease expires and the row is tried again
            log.exception("mail outbox: recording email %s failed", row.id)
