"""The link in every email's footer to the recipient's preferences page (no sign-in needed)."""

from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.db import settings_of
from checkrun.mail.repository import MailRepository

PREFERENCES_PATH = "/app/email-preferences/"


def public_base(db: AsyncSession) -> str:
    """The absolute base of links in emails: CHECKRUN_PUBLIC_URL, else the address served on."""
    settings = settings_of(db)
    if settings is None:
        return "http://127.0.0.1:8000"
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return f"http://{settings.host}:{settings.port}"


async def preferences_url(db: AsyncSession, org_id: str, email: str) -> str:
    token = await MailRepository(db).link_token(org_id, email, secrets.token_urlsafe(32))
    return public_base(db) + PREFERENCES_PATH + token
