"""One address is a guest or a member of an organization, never both: every way of making it
both is a clear 422 on the email, never a 409."""

from __future__ import annotations

import uuid

import httpx

from tests.conftest import Org
from tests.support.factories import ok


def _guest(org: Org) -> str:
    email = f"guest-{uuid.uuid4().hex[:8]}@example.com"
    ok(org.api.post(org.path("/guests"), json={"email": email}), 201)
    return email


def _email_error(response: httpx.Response) -> str:
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert list(errors) == ["email"]
    message: str = errors["email"][0]
    return message


def test_inviting_a_guest_as_a_member_is_422(org: Org) -> None:
    email = _guest(org)
    response = org.api.post(
        org.path("/users/invite"),
        json={
            "email": email.upper(),
            "first_name": "Gwen",
            "last_name": "Guest",
            "role": "standard",
        },
    )
    assert "guest" in _email_error(response)
    # Still a guest, not a member.
    assert ok(org.api.get(org.path(f"/guests/{email}")))["email"] == email


def test_provisioning_a_guest_as_a_member_is_422(org: Org) -> None:
    email = _guest(org)
    response = org.api.post(
        f"/applications/{org.id}/users",
        json={"email": email, "first_name": "Gwen", "last_name": "Guest", "role": "standard"},
    )
    assert "guest" in _email_error(response)


def test_member_as_a_guest_is_422(org: Org) -> None:
    response = org.api.post(org.path("/guests"), json={"email": org.admin_email.upper()})
    assert "member" in _email_error(response)


def test_guest_to_member_when_the_address_is_already_a_member_is_422(org: Org) -> None:
    email = _guest(org)
    # Both at once can only come from before this rule: arrange it in the database.
    user_id, _ = org.member("standard")
    org.server.execute(f"UPDATE users SET email = '{email}' WHERE id = {user_id}")
    response = org.api.post(org.path(f"/guests/{email}/to/member"), json={"role": "standard"})
    assert "member" in _email_error(response)
