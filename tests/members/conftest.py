"""Helpers for the member tests: invites, tokens for a member, bot users."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from tallyfy import TallyfySDK

from tests.conftest import Org
from tests.support.factories import ok


def invite(org: Org, client: httpx.Client | None = None, **fields: Any) -> httpx.Response:
    body = {
        "email": f"inv-{uuid.uuid4().hex[:8]}@example.com",
        "first_name": "Ivy",
        "last_name": "Invitee",
        **fields,
    }
    return (client or org.api).post(org.path("/users/invite"), json=body)


def token_client(org: Org, email: str) -> httpx.Client:
    token = org.api.post(f"/applications/{org.id}/users/{email}/token")
    assert token.status_code == 200, token.text
    return org.client(token.json()["access_token"])


def make_bot(org: Org, user_id: int) -> None:
    org.server.execute(
        f"UPDATE memberships SET type = 'bot' WHERE user_id = {int(user_id)} "
        f"AND org_id = '{org.id}'"
    )


def member_row(org: Org, user_id: int) -> dict[str, Any]:
    return ok(org.api.get(org.path(f"/users/{user_id}")))


@pytest.fixture
def sdk(org: Org) -> TallyfySDK:
    return TallyfySDK(api_key=org.token, base_url=org.server.api, max_retries=0)
