"""The link in every email's footer to the recipient's preferences page (no sign-in needed)."""

from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.config import Settings
from checkrun.db import settings_of
from checkrun.mail.repository import MailRepository

PREFERENCES_PATH = "/app/email-preferences/"


def base_of(settings: Settings) -> str:
    """The absolute base of links in emails: CHECKRUN_PUBLIC_URL, else the address served on.
    Never the request's Host header: a forged one would put the attacker's site in a password
    link sent to someone else."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = "localhost" if settings.host in ("0.0.0.0", "::", "") else settings.host
    return f"http://{host}:{settings.port}"


def public_base(db: AsyncSession) -> str:
    settings = settings_of(db)
    return base_of(settings) if settings is not None else "http://127.0.0.1:8000"


async def preferences_url(db: AsyncSession, org_id: str, email: str) -> str:
    token = await MailRepository(db).link_token(org_id, email, secrets.token_urlsafe(32))
    return public_base(db) + PREFERENCES_PATH + token
