"""The web app's sign-in accepts a password hashed by an earlier version (scrypt) and stores it
again as argon2id."""

from __future__ import annotations

from sqlalchemy import text

from tests.conftest import Org
from tests.support.passwords import ARGON2ID, legacy_scrypt
from tests.web.conftest import PASSWORD, browser_client, csrf_of, in_db, set_password, signed_in


def stored_hash(org: Org) -> str:
    sql = text("SELECT password_hash FROM user_passwords WHERE user_id = :id")
    found = in_db(org.server, lambda db: db.scalar(sql, {"id": org.admin_id}))
    assert isinstance(found, str)
    return found


def test_sign_in_with_a_scrypt_password_upgrades_it_to_argon2id(org: Org) -> None:
    set_password(org.server, org.admin_email)
    assert stored_hash(org).startswith(ARGON2ID)
    old = legacy_scrypt(PASSWORD)
    org.server.execute(
        f"UPDATE user_passwords SET password_hash = '{old}' WHERE user_id = {org.admin_id}"
    )
    web = browser_client(org.server)
    refused = web.post(
        "/app/sign-in",
        data={
            "csrf_token": csrf_of(web.get("/app/sign-in").text),
            "email": org.admin_email,
            "password": "not the password",
        },
    )
    assert refused.status_code != 303, refused.text
    assert stored_hash(org) == old

    signed_in(org.server, org.admin_email)
    upgraded = stored_hash(org)
    assert upgraded.startswith(ARGON2ID), upgraded
    signed_in(org.server, org.admin_email)
    assert stored_hash(org) == upgraded
