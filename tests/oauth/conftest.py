"""OAuth clients and passwords arranged the way the CLI does it (the same service calls), on
the live server's database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.db import make_engine, make_sessionmaker
from checkrun.oauth import service as oauth
from tests.conftest import LiveServer, Org

T = TypeVar("T")
PASSWORD = "correct horse battery"


def on_db(server: LiveServer, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = make_engine(server.settings.resolved_database_url)
        try:
            async with make_sessionmaker(engine)() as db:
                result = await work(db)
                await db.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(run())


def new_client(server: LiveServer, org_id: str) -> oauth.NewClient:
    return on_db(server, lambda db: oauth.create_client(db, org_id, None, "tests"))


def set_password(server: LiveServer, email: str, password: str = PASSWORD) -> None:
    on_db(server, lambda db: oauth.set_password(db, email, password))


def token_post(
    server: LiveServer, data: Any = None, prefix: str = "/api", **kwargs: Any
) -> httpx.Response:
    """A bare form post: no Bearer token, no X-Tallyfy-Client."""
    with httpx.Client(base_url=server.base, timeout=60) as client:
        return client.post(prefix + "/oauth/token", data=data, **kwargs)


@dataclass
class OAuthSetup:
    org: Org
    client: oauth.NewClient

    def form(self, **fields: str) -> dict[str, str]:
        return {
            "client_id": str(self.client.client_id),
            "client_secret": self.client.client_secret,
            **fields,
        }

    def password_grant(self, **overrides: str) -> httpx.Response:
        fields = {
            "grant_type": "password",
            "username": self.org.admin_email,
            "password": PASSWORD,
            **overrides,
        }
        return token_post(self.org.server, self.form(**fields))


@pytest.fixture
def setup(org: Org) -> OAuthSetup:
    set_password(org.server, org.admin_email)
    return OAuthSetup(org, new_client(org.server, org.id))
