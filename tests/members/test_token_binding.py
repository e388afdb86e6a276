"""A token an organization mints is valid in that organization only: adding someone's email
never hands the adding organization a key to the person's other organizations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import LiveServer, Org, new_org
from tests.oauth.conftest import PASSWORD, new_client, set_password, token_post


@pytest.fixture
def other(server: LiveServer) -> Iterator[Org]:
    """Org B, whose admin attacks org A (the `org` fixture)."""
    with new_org(server) as made:
        yield made


def _provision_and_mint(b: Org, email: str) -> str:
    made = b.api.post(
        f"/applications/{b.id}/users",
        json={"email": email, "first_name": "Shared", "last_name": "User", "role": "admin"},
    )
    assert made.status_code == 201, made.text
    minted = b.api.post(f"/applications/{b.id}/users/{email}/token")
    assert minted.status_code == 200, minted.text
    return str(minted.json()["access_token"])


def _org_name(a: Org) -> str:
    return str(a.api.get(a.path("")).json()["data"]["name"])


def test_a_token_minted_by_b_for_a_admin_is_refused_in_a(org: Org, other: Org) -> None:
    before = _org_name(org)
    minted = _provision_and_mint(other, org.admin_email)
    with org.server.client(minted) as stolen:
        assert stolen.get(org.path("")).status_code == 403
        renamed = stolen.put(org.path(""), json={"name": "pwned"})
        assert renamed.status_code == 403
        assert "another organization" in renamed.json()["message"]
        invite = stolen.post(
            org.path("/users/invite"),
            json={
                "email": "attacker@example.com",
                "first_name": "A",
                "last_name": "X",
                "role": "admin",
            },
        )
        assert invite.status_code == 403
        assert (
            stolen.post(
                f"/applications/{org.id}/users",
                json={
                    "email": "attacker2@example.com",
                    "first_name": "A",
                    "last_name": "X",
                    "role": "admin",
                },
            ).status_code
            == 403
        )
        assert (
            stolen.post(f"/applications/{org.id}/users/{org.admin_email}/token").status_code == 403
        )
        # In B, where it was minted, it works.
        assert stolen.get(other.path("/me")).status_code == 200
        mine = stolen.get("/me/organizations").json()["data"]
        assert [o["id"] for o in mine] == [other.id]
    assert _org_name(org) == before
    emails = {u["email"] for u in org.api.get(org.path("/users")).json()["data"]}
    assert "attacker@example.com" not in emails and "attacker2@example.com" not in emails


def test_the_users_own_token_keeps_working_in_every_org(org: Org, other: Org) -> None:
    _provision_and_mint(other, org.admin_email)
    assert org.api.get(org.path("/me")).status_code == 200
    assert org.api.get(other.path("/me")).status_code == 200
    ids = {o["id"] for o in org.api.get("/me/organizations").json()["data"]}
    assert ids == {org.id, other.id}


def test_a_password_grant_token_is_the_users_own(org: Org, other: Org) -> None:
    _provision_and_mint(other, org.admin_email)
    set_password(org.server, org.admin_email)
    client = new_client(org.server, other.id)
    granted = token_post(
        org.server,
        {
            "grant_type": "password",
            "client_id": str(client.client_id),
            "client_secret": client.client_secret,
            "username": org.admin_email,
            "password": PASSWORD,
        },
    )
    assert granted.status_code == 200, granted.text
    with org.server.client(granted.json()["access_token"]) as own:
        assert own.get(org.path("")).status_code == 200
        assert own.get(other.path("")).status_code == 200


def test_b_cannot_change_the_shared_users_profile(org: Org, other: Org) -> None:
    minted = _provision_and_mint(other, org.admin_email)
    profile = {"first_name": "Changed", "last_name": "ByB", "timezone": "UTC"}
    with org.server.client(minted) as stolen:
        assert stolen.put(other.path("/me"), json=profile).status_code == 403
        assert stolen.put(other.path(f"/users/{org.admin_id}"), json=profile).status_code == 403
    assert other.api.put(other.path(f"/users/{org.admin_id}"), json=profile).status_code == 403
    me = org.api.get(org.path("/me")).json()["data"]
    assert me["first_name"] != "Changed"


def test_a_token_b_mints_for_its_own_only_member_may_edit_their_profile(other: Org) -> None:
    _, member = other.member("standard")
    with member:
        me = member.get(other.path("/me")).json()["data"]
        changed = member.put(
            other.path("/me"), json={"first_name": "Own", "last_name": "Edit", "timezone": "UTC"}
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["data"]["first_name"] == "Own"
        assert me["id"] == changed.json()["data"]["id"]


def test_guest_to_member_then_mint_stays_in_b(org: Org, other: Org) -> None:
    email = org.admin_email
    assert other.api.post(other.path("/guests"), json={"email": email}).status_code in (200, 201)
    converted = other.api.post(other.path(f"/guests/{email}/to/member"), json={"role": "admin"})
    assert converted.status_code in (200, 201), converted.text
    minted = other.api.post(f"/applications/{other.id}/users/{email}/token")
    assert minted.status_code == 200, minted.text
    with org.server.client(minted.json()["access_token"]) as stolen:
        assert stolen.put(org.path(""), json={"name": "pwned"}).status_code == 403


def test_b_application_token_is_refused_on_a(org: Org, other: Org) -> None:
    client = new_client(org.server, other.id)
    granted = token_post(
        org.server,
        {
            "grant_type": "client_credentials",
            "client_id": str(client.client_id),
            "client_secret": client.client_secret,
        },
    )
    assert granted.status_code == 200, granted.text
    app_token = granted.json()["access_token"]
    with org.server.client(app_token) as app:
        assert (
            app.post(
                f"/applications/{org.id}/users",
                json={
                    "email": "x@example.com",
                    "first_name": "X",
                    "last_name": "Y",
                    "role": "admin",
                },
            ).status_code
            == 403
        )
        assert app.post(f"/applications/{org.id}/users/{org.admin_email}/token").status_code == 403
        assert app.get(org.path("")).status_code == 401
