"""A stand-in for the mail worker while it is built elsewhere: a thread that takes `pending`
outbox rows of one server's database, oldest first, and sends them over SMTP (aiosmtplib) to
the test SMTP server as multipart text + HTML. Each row is claimed with a conditional update
before it is sent, so it goes out once. Tests assert on what the SMTP server receives."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formataddr

import aiosmtplib
from sqlalchemy import text

from checkrun.db import make_engine
from tests.conftest import LiveServer
from tests.support.smtp import SmtpServer

POLL_SECONDS = 0.05
CLAIM = ("UPDATE mail_outbox SET status = 'sent', attempts = attempts + 1 "
         "WHERE id = :id AND status = 'pending'")
PENDING = ("SELECT id, to_email, to_name, subject, text, html FROM mail_outbox "
           "WHERE status = 'pending' ORDER BY created_at, id LIMIT 50")


def _message(sender: str, row: tuple[str, str, str | None, str, str, str]) -> EmailMessage:
    _, to_email, to_name, subject, body, html = row
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr((to_name or "", to_email))
    message["Subject"] = subject
    message.set_content(body)
    message.add_alternative(html, subtype="html")
    return message


async def _loop(server: LiveServer, smtp: SmtpServer, stop: threading.Event) -> None:
    engine = make_engine(server.settings.resolved_database_url)
    sender = server.settings.mail_from
    host, port = smtp.url.removeprefix("smtp://").split(":")
    try:
        while not stop.is_set():
            async with engine.connect() as conn:
                rows = (await conn.execute(text(PENDING))).all()
            for row in rows:
                async with engine.begin() as conn:
                    claimed = (await conn.execute(text(CLAIM), {"id": row[0]})).rowcount
                if claimed:
                    await aiosmtplib.send(_message(sender, tuple(row)),  # type: ignore[arg-type]
                                          hostname=host, port=int(port), timeout=10)
            await asyncio.sleep(POLL_SECONDS)
    finally:
        await engine.dispose()


@contextmanager
def sending(server: LiveServer, smtp: SmtpServer) -> Iterator[None]:
    """Sends the server's pending email while the block runs."""
    stop = threading.Event()
    thread = threading.Thread(target=lambda: asyncio.run(_loop(server, smtp, stop)),
                              daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)
