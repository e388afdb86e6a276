"""POST /oauth/token (§1.2): password, refresh_token and client_credentials grants, their
errors, and what the tokens they issue may do."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Org
from tests.oauth.conftest import PASSWORD, OAuthSetup, new_client, set_password, token_post
from tests.support.factories import checklist, ok

SECONDS_6_MONTHS = 15_552_000


def test_password_grant_issues_a_working_user_token(setup: OAuthSetup) -> None:
    response = setup.password_grant()
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == SECONDS_6_MONTHS
    assert body["access_token"] != body["refresh_token"]
    assert set(body) == {"token_type", "expires_in", "access_token", "refresh_token"}
    org = setup.org
    with org.server.client(body["access_token"]) as api:
        me = ok(api.get("/me"))
        assert me["id"] == org.admin_id and me["email"] == org.admin_email
        made = ok(
            api.post(org.path("/checklists"), json={"title": "Via OAuth", "type": "procedure"}), 201
        )
        assert made["created_by"] == org.admin_id


def test_token_endpoint_is_also_served_without_the_api_prefix(setup: OAuthSetup) -> None:
    response = token_post(
        setup.org.server,
        setup.form(
            grant_type="password", username=setup.org.admin_email.upper(), password=PASSWORD
        ),
        prefix="",
    )
    assert response.status_code == 200, response.text
    assert response.json()["access_token"].startswith("ckr_")


@pytest.mark.parametrize(
    "overrides",
    [
        {"password": "wrong password"},
        {"username": "nobody@example.com"},
    ],
)
def test_wrong_user_credentials_are_401_invalid_grant(
    setup: OAuthSetup, overrides: dict[str, str]
) -> None:
    response = setup.password_grant(**overrides)
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_grant"
    assert body["message"] == body["error_description"] == "The user credentials were incorrect."
    assert "access_token" not in body


def test_user_without_a_password_cannot_use_the_password_grant(setup: OAuthSetup) -> None:
    user_id, _ = setup.org.member("standard")
    email = ok(setup.org.api.get(setup.org.path(f"/users/{user_id}")))["email"]
    assert setup.password_grant(username=email, password="").status_code == 400
    response = setup.password_grant(username=email, password="anything at all")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_grant"


def test_password_grant_is_for_members_of_the_clients_organization(setup: OAuthSetup) -> None:
    other = setup.org.server.new_org()
    set_password(setup.org.server, other.email)
    response = setup.password_grant(username=other.email)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_grant"
    # Their own organization's client works for them.
    theirs = new_client(setup.org.server, other.org_id)
    allowed = token_post(
        setup.org.server,
        {
            "grant_type": "password",
            "client_id": str(theirs.client_id),
            "client_secret": theirs.client_secret,
            "username": other.email,
            "password": PASSWORD,
        },
    )
    assert allowed.status_code == 200, allowed.text


def test_disabled_member_cannot_log_in(setup: OAuthSetup) -> None:
    setup.org.server.execute(
        f"UPDATE memberships SET status = 'disabled' WHERE user_id = {setup.org.admin_id}"
    )
    assert setup.password_grant().status_code == 401


@pytest.mark.parametrize(
    "client_id, secret",
    [
        ("abc", None),
        ("12abc", None),
        ("999999", None),
        (None, "wrong secret"),
    ],
)
def test_bad_client_is_401_invalid_client(
    setup: OAuthSetup, client_id: str | None, secret: str | None
) -> None:
    form = setup.form(grant_type="client_credentials", scope="*")
    if client_id is not None:
        form["client_id"] = client_id
    if secret is not None:
        form["client_secret"] = secret
    response = token_post(setup.org.server, form)
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_client"
    assert body["message"] == "Client authentication failed"


def test_revoked_client_is_401(setup: OAuthSetup) -> None:
    from checkrun.oauth import service
    from tests.oauth.conftest import on_db

    on_db(setup.org.server, lambda db: service.revoke_client(db, setup.client.client_id))
    response = setup.password_grant()
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_json_body_is_400(setup: OAuthSetup) -> None:
    response = token_post(
        setup.org.server,
        json=setup.form(grant_type="password", username=setup.org.admin_email, password=PASSWORD),
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_request"
    assert "x-www-form-urlencoded" in body["message"]


def test_empty_body_is_400(setup: OAuthSetup) -> None:
    response = token_post(setup.org.server)
    assert response.status_code == 400


@pytest.mark.parametrize("grant", [None, "", "authorization_code", "implicit", "PASSWORD"])
def test_unknown_grant_is_400_unsupported_grant_type(setup: OAuthSetup, grant: str | None) -> None:
    form = setup.form(username=setup.org.admin_email, password=PASSWORD)
    if grant is not None:
        form["grant_type"] = grant
    response = token_post(setup.org.server, form)
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("missing", ["client_id", "username", "password"])
def test_missing_parameter_is_400_invalid_request(setup: OAuthSetup, missing: str) -> None:
    form = setup.form(grant_type="password", username=setup.org.admin_email, password=PASSWORD)
    del form[missing]
    response = token_post(setup.org.server, form)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_request"
    assert missing in body["hint"]


def test_unknown_scope_is_400_invalid_scope(setup: OAuthSetup) -> None:
    response = token_post(
        setup.org.server, setup.form(grant_type="client_credentials", scope="admin")
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


# --- refresh tokens -----------------------------------------------------------------------


def test_refresh_rotates_both_tokens(setup: OAuthSetup) -> None:
    first = setup.password_grant().json()
    response = token_post(
        setup.org.server,
        setup.form(grant_type="refresh_token", refresh_token=first["refresh_token"]),
    )
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["token_type"] == "Bearer"
    assert second["expires_in"] == SECONDS_6_MONTHS
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    server = setup.org.server
    with server.client(second["access_token"]) as fresh:
        assert ok(fresh.get("/me"))["id"] == setup.org.admin_id
    with server.client(first["access_token"]) as old:
        assert old.get("/me").status_code == 401
    reused = token_post(
        server, setup.form(grant_type="refresh_token", refresh_token=first["refresh_token"])
    )
    assert reused.status_code == 401
    assert reused.json()["error"] == "invalid_grant"
    assert reused.json()["hint"] == "Token has been revoked"


def test_refresh_token_errors(setup: OAuthSetup) -> None:
    server = setup.org.server
    missing = token_post(server, setup.form(grant_type="refresh_token"))
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    unknown = token_post(server, setup.form(grant_type="refresh_token", refresh_token="nope"))
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_grant"
    issued = setup.password_grant().json()
    other = new_client(server, setup.org.id)
    foreign = token_post(
        server,
        {
            "grant_type": "refresh_token",
            "client_id": str(other.client_id),
            "client_secret": other.client_secret,
            "refresh_token": issued["refresh_token"],
        },
    )
    assert foreign.status_code == 401
    assert foreign.json()["hint"] == "Token is not linked to client"
    server.execute(
        "UPDATE oauth_refresh_tokens SET expires_at = '2000-01-01 00:00:00' "
        f"WHERE client_id = {setup.client.client_id}"
    )
    expired = token_post(
        server, setup.form(grant_type="refresh_token", refresh_token=issued["refresh_token"])
    )
    assert expired.status_code == 401
    assert expired.json()["hint"] == "Token has expired"


# --- application tokens (client_credentials) ------------------------------------------------


def app_token(setup: OAuthSetup) -> str:
    response = token_post(setup.org.server, setup.form(grant_type="client_credentials", scope="*"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 604_800
    assert "refresh_token" not in body
    token: str = body["access_token"]
    return token


def test_client_credentials_token_provisions_users_and_their_tokens(setup: OAuthSetup) -> None:
    org = setup.org
    with org.server.client(app_token(setup)) as app:
        made = app.post(
            f"/applications/{org.id}/users",
            json={
                "email": "Provisioned@Example.com",
                "first_name": "Pro",
                "last_name": "Vision",
                "role": "standard",
            },
        )
        assert made.status_code == 201, made.text
        user = made.json()["data"]
        assert user["email"] == "provisioned@example.com" and user["role"] == "standard"
        token = app.post(f"/applications/{org.id}/users/provisioned@example.com/token")
        assert token.status_code == 200, token.text
        assert token.json()["expires_in"] == 7_776_000
    with org.server.client(token.json()["access_token"]) as person:
        assert ok(person.get("/me"))["id"] == user["id"]


def test_client_credentials_token_on_user_endpoints_is_401(setup: OAuthSetup) -> None:
    org = setup.org
    checklist(org, steps=0)
    with org.server.client(app_token(setup)) as app:
        for path in (org.path("/checklists"), org.path("/runs"), org.path("/tasks"), "/me"):
            response = app.get(path)
            assert response.status_code == 401, path
            assert "application token" in response.json()["message"]


def test_client_credentials_token_of_another_org_is_403(setup: OAuthSetup) -> None:
    other = setup.org.server.new_org()
    with setup.org.server.client(app_token(setup)) as app:
        response = app.post(
            f"/applications/{other.org_id}/users",
            json={"email": "x@example.com", "first_name": "X", "last_name": "Y"},
        )
        assert response.status_code == 403
        assert (
            response.json()["message"]
            == "You don't have application's permissions for this organization!"
        )
        token = app.post(f"/applications/{other.org_id}/users/{other.email}/token")
        assert token.status_code == 403


def test_expired_or_headerless_app_token_is_401(setup: OAuthSetup) -> None:
    org = setup.org
    token = app_token(setup)
    with org.server.client(token, **{"X-Tallyfy-Client": ""}) as app:
        assert app.post(f"/applications/{org.id}/users/{org.admin_email}/token").status_code == 401
    org.server.execute(
        "UPDATE oauth_app_tokens SET expires_at = '2000-01-01 00:00:00' "
        f"WHERE client_id = {setup.client.client_id}"
    )
    with org.server.client(token) as app:
        response = app.post(f"/applications/{org.id}/users/{org.admin_email}/token")
        assert response.status_code == 401
        assert "expired" in response.json()["message"]


def test_member_tokens_on_application_routes(org: Org) -> None:
    """Admins' personal tokens keep working there; other members are refused."""
    token = org.api.post(f"/applications/{org.id}/users/{org.admin_email}/token")
    assert token.status_code == 200 and re.match(r"ckr_", token.json()["access_token"])
    _, standard = org.member("standard")
    refused = standard.post(
        f"/applications/{org.id}/users",
        json={"email": "y@example.com", "first_name": "Y", "last_name": "Z"},
    )
    assert refused.status_code == 403
    other = org.server.new_org()
    assert (
        org.api.post(f"/applications/{other.org_id}/users/{other.email}/token").status_code == 403
    )
    with org.server.client("not-a-token") as nobody:
        assert nobody.post(f"/applications/{org.id}/users", json={}).status_code == 401


def test_client_credentials_may_come_as_http_basic(setup: OAuthSetup) -> None:
    import base64

    pair = f"{setup.client.client_id}:{setup.client.client_secret}".encode()
    good = token_post(
        setup.org.server,
        {"grant_type": "client_credentials", "scope": "*"},
        headers={"Authorization": "Basic " + base64.b64encode(pair).decode()},
    )
    assert good.status_code == 200, good.text
    assert good.json()["expires_in"] == 604_800
    bad = token_post(
        setup.org.server,
        {"grant_type": "client_credentials"},
        headers={"Authorization": "Basic " + base64.b64encode(b"1:wrong").decode()},
    )
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    garbage = token_post(
        setup.org.server,
        {"grant_type": "client_credentials"},
        headers={"Authorization": "Basic %%%"},
    )
    assert garbage.status_code == 401
