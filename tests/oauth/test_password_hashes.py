"""Passwords and client secrets are stored as argon2id; hashes of earlier versions (scrypt) still
sign in and are replaced by argon2id at the first success."""

from __future__ import annotations

from sqlalchemy import text

from tests.conftest import LiveServer
from tests.oauth.conftest import PASSWORD, OAuthSetup, on_db, token_post
from tests.support.passwords import ARGON2ID, legacy_scrypt


def password_hash(server: LiveServer, user_id: int) -> str:
    sql = text("SELECT password_hash FROM user_passwords WHERE user_id = :id")
    found = on_db(server, lambda db: db.scalar(sql, {"id": user_id}))
    assert isinstance(found, str)
    return found


def secret_hash(server: LiveServer, client_id: int) -> str:
    sql = text("SELECT secret_hash FROM oauth_clients WHERE id = :id")
    found = on_db(server, lambda db: db.scalar(sql, {"id": client_id}))
    assert isinstance(found, str)
    return found


def test_passwords_and_client_secrets_are_stored_as_argon2id(setup: OAuthSetup) -> None:
    server = setup.org.server
    stored = password_hash(server, setup.org.admin_id)
    assert stored.startswith(ARGON2ID), stored
    assert PASSWORD not in stored
    assert secret_hash(server, setup.client.client_id).startswith(ARGON2ID)
    assert setup.password_grant().status_code == 200
    assert password_hash(server, setup.org.admin_id) == stored  # nothing to upgrade


def test_a_scrypt_password_signs_in_and_is_upgraded(setup: OAuthSetup) -> None:
    server = setup.org.server
    old = legacy_scrypt(PASSWORD)
    server.execute(
        f"UPDATE user_passwords SET password_hash = '{old}' WHERE user_id = {setup.org.admin_id}"
    )
    wrong = setup.password_grant(password="not the password")
    assert wrong.status_code == 401, wrong.text
    assert password_hash(server, setup.org.admin_id) == old

    signed_in = setup.password_grant()
    assert signed_in.status_code == 200, signed_in.text
    upgraded = password_hash(server, setup.org.admin_id)
    assert upgraded.startswith(ARGON2ID), upgraded
    assert setup.password_grant().status_code == 200
    assert setup.password_grant(password="not the password").status_code == 401
    assert password_hash(server, setup.org.admin_id) == upgraded


def test_a_scrypt_client_secret_is_upgraded_when_the_client_authenticates(
    setup: OAuthSetup,
) -> None:
    server = setup.org.server
    client_id = setup.client.client_id
    old = legacy_scrypt(setup.client.client_secret)
    server.execute(f"UPDATE oauth_clients SET secret_hash = '{old}' WHERE id = {client_id}")
    refused = token_post(
        server,
        {"grant_type": "client_credentials", "client_id": str(client_id), "client_secret": "x"},
    )
    assert refused.status_code == 401
    assert secret_hash(server, client_id) == old

    issued = token_post(server, setup.form(grant_type="client_credentials", scope="*"))
    assert issued.status_code == 200, issued.text
    assert secret_hash(server, client_id).startswith(ARGON2ID)
    assert token_post(server, setup.form(grant_type="client_credentials")).status_code == 200
