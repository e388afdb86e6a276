"""Several organizations on one server, from the command line: `checkrun org create | list`,
and `checkrun init` refusing to answer about an organization other than the one asked for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.test_cli import ENV, cli, cli_json, me, serving, stored_hashes

KEYS = {"base_url", "org_id", "user_id", "email", "token"}


def _orgs(data_dir: Path) -> list[dict[str, object]]:
    listed = cli_json(data_dir, "org", "list")["organizations"]
    assert isinstance(listed, list)
    return listed


def test_org_create_makes_a_second_organization_with_its_own_admin(tmp_path: Path) -> None:
    first = cli_json(tmp_path, "init", "--org-name", "Alpha", "--email", "a@example.com")
    second = cli_json(tmp_path, "org", "create", "--name", "Beta", "--email", "B@Example.com")
    assert set(second) == KEYS == set(first)
    assert second["org_id"] != first["org_id"]
    assert second["user_id"] != first["user_id"]
    assert second["email"] == "b@example.com"
    assert second["base_url"] == first["base_url"]

    listed = _orgs(tmp_path)
    assert [
        (o["id"], o["name"], o["admin_email"], o["admin_user_id"], o["members"]) for o in listed
    ] == [
        (first["org_id"], "Alpha", "a@example.com", first["user_id"], 1),
        (second["org_id"], "Beta", "b@example.com", second["user_id"], 1),
    ]
    plain = cli(tmp_path, "org", "list")
    assert plain.returncode == 0, plain.stderr
    assert [line.split()[0] for line in plain.stdout.splitlines()] == [
        first["org_id"],
        second["org_id"],
    ]
    assert "Beta" in plain.stdout and "b@example.com" in plain.stdout

    with serving(tmp_path) as (base, _):
        assert me(base, second["token"], second["org_id"]).json()["data"]["id"] == second["user_id"]
        assert me(base, first["token"], first["org_id"]).status_code == 200
        # Each admin belongs to their own organization only.
        assert me(base, second["token"], first["org_id"]).status_code == 403
        assert me(base, first["token"], second["org_id"]).status_code == 403


def test_org_create_plain_output_is_for_a_person(tmp_path: Path) -> None:
    done = cli(tmp_path, "org", "create", "--name", "Gamma", "--email", "g@example.com")
    assert done.returncode == 0, done.stderr
    assert "created" in done.stdout and "g@example.com" in done.stdout
    token = next(
        line.split(":", 1)[1].strip()
        for line in done.stdout.splitlines()
        if line.startswith("Token:")
    )
    [org] = _orgs(tmp_path)
    with serving(tmp_path) as (base, _):
        assert me(base, token, str(org["id"])).status_code == 200


def test_org_create_refuses_bad_input_and_duplicate_names(tmp_path: Path) -> None:
    cli_json(tmp_path, "org", "create", "--name", "Delta", "--email", "d@example.com")
    for args, word in (
        (("--name", "Delta", "--email", "other@example.com"), "Delta"),
        (("--name", "Eps", "--email", "not-an-email"), "not-an-email"),
        (("--name", "  ", "--email", "e@example.com"), "name"),
    ):
        done = cli(tmp_path, "org", "create", *args)
        assert done.returncode != 0, args
        assert word in done.stderr and done.stdout == ""
    missing = cli(tmp_path, "org", "create", "--name", "Zeta")
    assert missing.returncode != 0 and "--email" in missing.stderr
    assert [o["name"] for o in _orgs(tmp_path)] == ["Delta"]
    assert len(stored_hashes(tmp_path)) == 1


def test_org_flags_have_environment_variables(tmp_path: Path) -> None:
    env = {
        **ENV,
        "CHECKRUN_DATA_DIR": str(tmp_path),
        "CHECKRUN_ORG_NAME": "From Env",
        "CHECKRUN_EMAIL": "env@example.com",
    }
    done = subprocess.run(
        [sys.executable, "-m", "checkrun", "org", "create", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout)
    assert made["email"] == "env@example.com"
    assert [(o["id"], o["name"]) for o in _orgs(tmp_path)] == [(made["org_id"], "From Env")]


def test_org_list_on_an_empty_data_dir(tmp_path: Path) -> None:
    assert _orgs(tmp_path) == []
    assert cli(tmp_path, "org", "list").returncode == 0


def test_init_refuses_another_org_name_or_email_and_points_at_org_create(tmp_path: Path) -> None:
    first = cli_json(tmp_path, "init", "--org-name", "Alpha", "--email", "a@example.com")
    for args in (
        ("--org-name", "Other"),
        ("--email", "someone@example.com"),
        ("--org-name", "Alpha", "--email", "someone@example.com"),
    ):
        done = cli(tmp_path, "init", *args, "--json")
        assert done.returncode != 0, args
        assert done.stdout == ""
        assert "checkrun org create" in done.stderr and first["org_id"] in done.stderr
    assert [o["id"] for o in _orgs(tmp_path)] == [first["org_id"]]
    assert len(stored_hashes(tmp_path)) == 1  # nothing issued by a refused init

    for same in (
        (),
        ("--org-name", "Alpha"),
        ("--email", "A@example.com"),
        ("--org-name", "Alpha", "--email", "a@example.com"),
    ):
        again = cli_json(tmp_path, "init", *same)
        assert (again["org_id"], again["user_id"]) == (first["org_id"], first["user_id"]), same
        assert again["token"] != first["token"]


def test_init_matching_a_later_organization_reports_that_one(tmp_path: Path) -> None:
    first = cli_json(tmp_path, "init")
    beta = cli_json(tmp_path, "org", "create", "--name", "Beta", "--email", "b@example.com")
    assert cli_json(tmp_path, "init")["org_id"] == first["org_id"]
    found = cli_json(tmp_path, "init", "--org-name", "Beta", "--email", "b@example.com")
    assert (found["org_id"], found["user_id"]) == (beta["org_id"], beta["user_id"])
    with serving(tmp_path) as (base, _):
        assert me(base, found["token"], beta["org_id"]).status_code == 200


def test_org_create_for_an_existing_user_keeps_their_account(tmp_path: Path) -> None:
    first = cli_json(tmp_path, "init", "--email", "owner@example.com")
    second = cli_json(tmp_path, "org", "create", "--name", "Second", "--email", "OWNER@example.com")
    assert second["user_id"] == first["user_id"] and second["org_id"] != first["org_id"]
    assert [o["admin_user_id"] for o in _orgs(tmp_path)] == [first["user_id"]] * 2
