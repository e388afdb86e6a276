"""Helpers of the email tests: people with their addresses, the outbox as the database holds
it, and work done in a session of the live server's own database and settings."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import text

from checkrun.db import make_engine
from tests.conftest import LiveServer, Org
from tests.support.factories import ok
from tests.support.smtp import Received, SmtpServer

HOSTILE = '<script>alert("x")</script> & <b>bold</b>'


def person(
    org: Org, role: str = "standard", first_name: str = "Pat"
) -> tuple[int, str, httpx.Client]:
    """A new member: id, address, a client acting as them."""
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    made = ok(
        org.api.post(
            f"/applications/{org.id}/users",
            json={"email": email, "first_name": first_name, "last_name": "Member", "role": role},
        ),
        201,
    )
    token = org.api.post(f"/applications/{org.id}/users/{email}/token")
    assert token.status_code == 200, token.text
    return made["id"], email, org.client(token.json()["access_token"])


def guest(org: Org) -> tuple[str, str]:
    """A new guest: address, guest link."""
    email = f"guest-{uuid.uuid4().hex[:8]}@outside.example.org"
    made = ok(
        org.api.post(
            org.path("/guests"), json={"email": email, "first_name": "Gus", "last_name": "Guest"}
        ),
        201,
    )
    return email, made["link"]


def outbox(server: LiveServer, where: str, **params: Any) -> list[dict[str, Any]]:
    """Outbox rows matching `where`, oldest first."""

    async def work() -> list[dict[str, Any]]:
        engine = make_engine(server.settings.resolved_database_url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    text(f"SELECT * FROM mail_outbox WHERE {where} ORDER BY created_at, id"), params
                )
                return [dict(r._mapping) for r in rows]
        finally:
            await engine.dispose()

    return asyncio.run(work())


def mail_to(smtp: SmtpServer, address: str, subject: str, count: int = 1) -> list[Received]:
    """The first `count` emails to `address` whose subject contains `subject`."""
    return smtp.wait_for(
        lambda m: address.lower() in [r.lower() for r in m.recipients] and subject in m.subject,
        count,
    )


def assert_escaped(html: str) -> None:
    assert "<script>" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;" in html and "&amp;" in html
