"""Talking to the SMTP server: CHECKRUN_SMTP_URL parsed (and refused with a clear message at
start), one outbox row turned into a standards-correct email, sent with aiosmtplib, and the
failure classified: worth retrying, or final for this message."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import parse_qsl, unquote, urlsplit

import aiosmtplib

from checkrun.config import Settings
from checkrun.kit.clock import now
from checkrun.kit.leases import clip
from checkrun.mail.models import MailMessage

DEFAULT_PORTS = {"plain": 25, "smtps": 465, "starttls": 587}
TRUE, FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}
# One send is a handful of commands, each bounded by the timeout: this bounds them together.
COMMANDS_PER_SEND = 3


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False  # implicit TLS from the first byte (smtps://)
    start_tls: bool = False  # STARTTLS after EHLO (?starttls=true)


@dataclass(frozen=True)
class Outcome:
    error: str | None = None
    # Retrying can't help: the server refused this recipient or this message for good.
    final: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


def _flag(value: str) -> bool:
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise ValueError(f"CHECKRUN_SMTP_URL: starttls must be true or false, not {value!r}")


def _starttls(query: str) -> bool:
    chosen = False
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key != "starttls":
            raise ValueError(f"CHECKRUN_SMTP_URL: unknown parameter {key!r} (only starttls)")
        chosen = _flag(value)
    return chosen


def parse_smtp_url(url: str) -> SmtpTarget:
    """`smtp://[user:pass@]host[:port]` (plain, port 25), `smtps://...` (implicit TLS, 465),
    `smtp://...?starttls=true` (STARTTLS, 587); credentials are percent-decoded."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(
            f"CHECKRUN_SMTP_URL must start with smtp:// or smtps://, not "
            f"{parts.scheme + '://' if parts.scheme else repr(url)}"
        )
    if not parts.hostname:
        raise ValueError("CHECKRUN_SMTP_URL has no host (smtp://host:port)")
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError("CHECKRUN_SMTP_URL takes no path: smtp://user:pass@host:port")
    start_tls = _starttls(parts.query)
    if start_tls and parts.scheme == "smtps":
        raise ValueError("CHECKRUN_SMTP_URL: smtps:// is TLS already; starttls=true is for smtp://")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(
            "CHECKRUN_SMTP_URL has a port that is not a number from 1 to 65535"
        ) from None
    mode = "smtps" if parts.scheme == "smtps" else "starttls" if start_tls else "plain"
    if (parts.username is None) != (parts.password is None) or parts.username == "":
        raise ValueError(
            "CHECKRUN_SMTP_URL needs both a user name and a password "
            "(smtp://user:password@host), or neither"
        )
    return SmtpTarget(
        host=parts.hostname,
        port=port or DEFAULT_PORTS[mode],
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
        use_tls=mode == "smtps",
        start_tls=mode == "starttls",
    )


def sender_address(mail_from: str) -> str:
    """The address of CHECKRUN_MAIL_FROM (`Name <addr>` or `addr`), refused when it has none."""
    _, address = parseaddr(mail_from)
    if "@" not in address or "\n" in mail_from or "\r" in mail_from:
        raise ValueError(f"CHECKRUN_MAIL_FROM is not an email address: {mail_from!r}")
    return address


def tls_context(settings: Settings) -> ssl.SSLContext:
    """The system's CAs, or only those of CHECKRUN_SMTP_CA_FILE when it is set."""
    if settings.smtp_ca_file is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=str(settings.smtp_ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(
            f"CHECKRUN_SMTP_CA_FILE can't be read as PEM certificates: {exc}"
        ) from None


def build_message(row: MailMessage, mail_from: str, unsubscribe: str | None) -> EmailMessage:
    """multipart/alternative (plain text, then HTML). The Message-ID is the row's, so that a
    message sent twice (a lease that expired after the server accepted it) is one message to a
    receiver that deduplicates."""
    message = EmailMessage()
    message["Subject"] = " ".join(row.subject.split())
    message["From"] = mail_from
    message["To"] = Address(
        display_name=" ".join((row.to_name or "").split()), addr_spec=row.to_email
    )
    message["Date"] = format_datetime(now())
    message["Message-ID"] = f"<{row.id}@{sender_address(mail_from).rsplit('@', 1)[1]}>"
    # RFC 3834: no vacation auto-replies to a notification.
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe:
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(row.text)
    message.add_alternative(row.html, subtype="html")
    # The row's own boundary: the same bytes each time the row is sent, and not drawn from the
    # process-wide `random` state as the standard library's generator would.
    message.set_boundary(f"===============checkrun-{row.id}==")
    return message


class SmtpTransport:
    """What the worker sends with: the parsed target, the sender and the TLS trust, all checked
    when it is made (a `ValueError` saying what is wrong)."""

    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_url:
            raise ValueError("CHECKRUN_SMTP_URL is not set")
        self.settings = settings
        self.target = parse_smtp_url(settings.smtp_url)
        self.sender = sender_address(settings.mail_from)
        self.tls = tls_context(settings)

    async def send(self, row: MailMessage, unsubscribe: str | None) -> Outcome:
        try:
            message = build_message(row, self.settings.mail_from, unsubscribe)
        except (ValueError, TypeError, IndexError) as exc:
            return Outcome(error=clip(f"the message can't be written: {exc}"), final=True)
        timeout = self.settings.mail_timeout_seconds
        try:
            async with asyncio.timeout(timeout * COMMANDS_PER_SEND):
                await aiosmtplib.send(
                    message,
                    sender=self.sender,
                    recipients=[row.to_email],
                    hostname=self.target.host,
                    port=self.target.port,
                    username=self.target.username,
                    password=self.target.password,
                    use_tls=self.target.use_tls,
                    start_tls=self.target.start_tls,
                    tls_context=self.tls,
                    timeout=timeout,
                )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients
            return Outcome(
                error=clip("; ".join(_said(r) for r in refused)),
                final=all(r.code >= 500 for r in refused),
            )
        except aiosmtplib.SMTPResponseException as exc:
            return Outcome(error=clip(_said(exc)), final=_final(exc))
        except (aiosmtplib.SMTPException, OSError) as exc:  # timeouts, refused connections, TLS
            return Outcome(
                error=clip(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
            )
        return Outcome()


def check_settings(settings: Settings) -> None:
    """Raises ValueError saying what is wrong with the email settings (nothing when email is
    off): called when the app is made, so that a bad URL stops the start."""
    if settings.mail_enabled:
        SmtpTransport(settings)


def _said(exc: aiosmtplib.SMTPResponseException) -> str:
    return f"SMTP {exc.code}: {exc.message}"


def _final(exc: aiosmtplib.SMTPResponseException) -> bool:
    """A 5xx about this recipient or this message is final. Others (a refused sender, failed
    authentication: the server's or the configuration's trouble) are retried, so that mail
    waits while an operator fixes them."""
    about_this = isinstance(exc, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError)
    return about_this and exc.code >= 500
