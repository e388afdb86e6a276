"""The official SDK with a password-grant token, and the operator's CLI commands end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
from tallyfy import TallyfySDK

from tests.conftest import CLIENT_HEADERS, live_server
from tests.oauth.conftest import OAuthSetup, token_post
from tests.support.factories import checklist

ENV = {k: v for k, v in os.environ.items() if not k.startswith("CHECKRUN_")}


def test_official_sdk_works_with_a_password_grant_token(setup: OAuthSetup) -> None:
    org = setup.org
    template = checklist(org, steps=1, title="OAuth onboarding")
    token = setup.password_grant().json()["access_token"]
    sdk = TallyfySDK(api_key=token, base_url=org.server.base, max_retries=0)
    me = sdk.users.get_current_user_info(org.id)
    assert me is not None and me.id == org.admin_id and me.email == org.admin_email
    assert sdk.templates.search_templates_by_name(org.id, "oauth onboarding") == template["id"]
    launched = sdk.tasks.launch_process(org.id, template["id"], "Launched with OAuth")
    assert launched.name == "Launched with OAuth" and launched.started_by == org.admin_id


def cli(data_dir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "checkrun", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
        input=stdin,
    )


def test_cli_creates_clients_and_sets_passwords(tmp_path: Path) -> None:
    data = tmp_path / "data"
    boot = json.loads(
        cli(data, "init", "--json", "--org-name", "Acme", "--email", "boss@example.com").stdout
    )
    made = cli(data, "oauth-client", "create", "--org-name", "Acme", "--json")
    assert made.returncode == 0, made.stderr
    client = json.loads(made.stdout)
    assert isinstance(client["client_id"], int) and client["org_id"] == boot["org_id"]
    assert len(client["client_secret"]) >= 32
    short = cli(
        data,
        "user",
        "set-password",
        "--email",
        "boss@example.com",
        "--password-stdin",
        stdin="short\n",
    )
    assert short.returncode == 1 and "at least 8" in short.stderr
    done = cli(
        data,
        "user",
        "set-password",
        "--email",
        "boss@example.com",
        "--password-stdin",
        stdin="long enough pw\n",
    )
    assert done.returncode == 0, done.stderr
    nope = cli(data, "oauth-client", "create", "--org-name", "Nope")
    assert nope.returncode == 1 and "0 organizations" in nope.stderr

    with live_server("sqlite", data) as server:
        form = {"client_id": str(client["client_id"]), "client_secret": client["client_secret"]}
        issued = token_post(
            server,
            {
                **form,
                "grant_type": "password",
                "username": "boss@example.com",
                "password": "long enough pw",
            },
        )
        assert issued.status_code == 200, issued.text
        with httpx.Client(
            base_url=server.api,
            headers={**CLIENT_HEADERS, "Authorization": f"Bearer {issued.json()['access_token']}"},
        ) as api:
            assert api.get("/me").json()["data"]["email"] == "boss@example.com"
        revoked = cli(data, "oauth-client", "revoke", "--client-id", str(client["client_id"]))
        assert revoked.returncode == 0, revoked.stderr
        again = token_post(server, {**form, "grant_type": "client_credentials"})
        assert again.status_code == 401
