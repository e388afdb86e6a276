"""Custom field values on the ten kinds of record: full PUT, one-key PATCH and DELETE where
offered, checks by field type, required keys, who may write, and other organizations' records
answering 404."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from checkrun.db import make_engine
from tests.conftest import Org
from tests.customfields.test_keys import make_key
from tests.support.factories import checklist, folder, ok, run, tag


def fields(client: httpx.Client, path: str) -> dict[str, Any]:
    data: dict[str, Any] = ok(client.get(path + "/custom-fields"))
    return data["custom_fields"]


def put(client: httpx.Client, path: str, values: dict[str, Any], status: int = 200) -> Any:
    return ok(client.put(path + "/custom-fields", json={"custom_fields": values}), status)


def a_run(org: Org) -> str:
    return org.path(f"/runs/{run(org)['id']}")


def a_task(org: Org) -> str:
    launched = run(org)
    task = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))[0]
    return org.path(f"/runs/{launched['id']}/tasks/{task['id']}")


def a_member(org: Org) -> str:
    return org.path(f"/users/{org.admin_id}")


def a_guest(org: Org) -> str:
    guest = ok(org.api.post(org.path("/guests"), json={"email": "cf-guest@example.com"}), 201)
    return org.path(f"/guests/{guest['link'].rsplit('/', 1)[1]}")


def a_folder(org: Org) -> str:
    return org.path(f"/folders/{folder(org)}")


def a_tag(org: Org) -> str:
    return org.path(f"/tags/{tag(org)}")


def a_template(org: Org) -> str:
    return org.path(f"/checklists/{checklist(org, steps=0)['id']}")


def a_step(org: Org) -> str:
    template = checklist(org, steps=1)
    step = ok(org.api.get(org.path(f"/checklists/{template['id']}/steps")))[0]
    return org.path(f"/checklists/{template['id']}/steps/{step['id']}")


def a_form_field(org: Org) -> str:
    step = a_step(org)
    capture = ok(org.api.post(step + "/captures", json={"label": "Go?", "field_type": "text"}), 201)
    return f"{step}/captures/{capture['id']}"


def a_kickoff_field(org: Org) -> str:
    template = checklist(org, steps=0)
    path = org.path(f"/checklists/{template['id']}")
    body = {"title": template["title"], "prerun": [{"label": "Plan", "field_type": "text"}]}
    prerun = ok(org.api.put(path, json=body))["prerun"][0]
    return f"{path}/preruns/{prerun['id']}"


RECORDS: dict[str, Callable[[Org], str]] = {
    "process": a_run,
    "task": a_task,
    "member": a_member,
    "guest": a_guest,
    "folder": a_folder,
    "tag": a_tag,
    "template": a_template,
    "step": a_step,
    "form_field": a_form_field,
    "kickoff_field": a_kickoff_field,
}
ONE_KEY = ("process", "task", "member", "guest", "folder", "tag")


@pytest.mark.parametrize("kind", list(RECORDS))
def test_put_replaces_every_value(org: Org, kind: str) -> None:
    make_key(org, "region", applies_to=kind)
    make_key(org, "score", applies_to=kind, field_type="number")
    path = RECORDS[kind](org)
    assert fields(org.api, path) == {}
    assert put(org.api, path, {"region": "EU", "score": 3}) == {
        "custom_fields": {"region": "EU", "score": 3}
    }
    put(org.api, path, {"score": 4.5})  # left out: cleared
    assert fields(org.api, path) == {"score": 4.5}
    put(org.api, path, {})
    assert fields(org.api, path) == {}


@pytest.mark.parametrize("kind", ONE_KEY)
def test_patch_and_delete_one_value(org: Org, kind: str) -> None:
    make_key(org, "region", applies_to=kind)
    make_key(org, "vip", applies_to=kind, field_type="boolean")
    path = RECORDS[kind](org)
    put(org.api, path, {"region": "EU"})
    patched = ok(org.api.patch(path + "/custom-fields/vip", json={"value": True}))
    assert patched == {"custom_fields": {"region": "EU", "vip": True}}
    ok(org.api.patch(path + "/custom-fields/region", json={"value": "US"}))
    assert fields(org.api, path) == {"region": "US", "vip": True}
    assert ok(org.api.delete(path + "/custom-fields/region")) == {"custom_fields": {"vip": True}}
    ok(org.api.delete(path + "/custom-fields/region"))  # again: nothing left to remove
    assert org.api.patch(path + "/custom-fields/nope", json={"value": 1}).status_code == 404
    assert org.api.patch(path + "/custom-fields/vip", json={}).status_code == 422


@pytest.mark.parametrize("kind", ["template", "step", "form_field", "kickoff_field"])
def test_template_side_records_take_put_only(org: Org, kind: str) -> None:
    make_key(org, "risk", applies_to=kind)
    path = RECORDS[kind](org)
    put(org.api, path, {"risk": "high"})
    # No such route (Tallyfy offers none): whatever the router answers, nothing changes.
    assert org.api.patch(path + "/custom-fields/risk", json={"value": "low"}).status_code in (
        404,
        405,
    )
    assert org.api.delete(path + "/custom-fields/risk").status_code in (404, 405)
    assert fields(org.api, path) == {"risk": "high"}


@pytest.mark.parametrize("kind", list(RECORDS))
def test_another_orgs_record_is_not_found(org: Org, other_org: Org, kind: str) -> None:
    make_key(org, "region", applies_to=kind)
    make_key(other_org, "region", applies_to=kind)
    path = RECORDS[kind](org)
    put(org.api, path, {"region": "EU"})
    theirs = path.replace(org.id, other_org.id)
    assert other_org.api.get(theirs + "/custom-fields").status_code == 404
    body = {"custom_fields": {"region": "US"}}
    assert other_org.api.put(theirs + "/custom-fields", json=body).status_code == 404
    assert fields(org.api, path) == {"region": "EU"}


KEYS: list[tuple[dict[str, Any], list[Any], list[Any]]] = [
    ({"field_type": "text"}, ["short"], ["x" * 256, 5, ["a"]]),
    ({"field_type": "textarea"}, ["x" * 6000], ["x" * 6001, True]),
    ({"field_type": "number"}, [0, -2.5, 10**9], ["5", True]),
    ({"field_type": "boolean"}, [True, False], ["true", 1]),
    ({"field_type": "date"}, ["2026-03-01", "2026-03-01T10:00:00Z"], ["tomorrow", 20260301]),
    ({"field_type": "email"}, ["a@example.com"], ["nobody", "a@b"]),
    ({"field_type": "url"}, ["https://example.com/x"], ["ftp://example.com", "example.com"]),
    ({"field_type": "radio", "options": ["a", "b"]}, ["a"], ["c", ["a"]]),
    ({"field_type": "dropdown", "options": ["a", "b"]}, ["b"], ["A"]),
    (
        {"field_type": "multiselect", "options": ["a", "b"]},
        [["a", "b"], []],
        ["a", ["a", "a"], ["z"]],
    ),
    (
        {"field_type": "table", "columns": ["item", "qty"]},
        [[{"item": "pen", "qty": 2}], []],
        [{"item": "pen"}, [{"colour": "red"}], [{"item": ["nested"]}]],
    ),
]


@pytest.mark.parametrize(("key", "good", "bad"), KEYS, ids=[k["field_type"] for k, _, _ in KEYS])
def test_values_are_checked_by_field_type(
    org: Org, key: dict[str, Any], good: list[Any], bad: list[Any]
) -> None:
    make_key(org, "f", applies_to="folder", **key)
    path = a_folder(org)
    for value in good:
        assert put(org.api, path, {"f": value}) == {"custom_fields": {"f": value}}
    for value in bad:
        refused = org.api.put(path + "/custom-fields", json={"custom_fields": {"f": value}})
        assert refused.status_code == 422, (value, refused.text)
        assert "custom_fields.f" in refused.json()["errors"]
        patched = org.api.patch(path + "/custom-fields/f", json={"value": value})
        assert patched.status_code == 422, (value, patched.text)
    assert fields(org.api, path) == {"f": good[-1]}


def test_required_unknown_and_inactive_keys(org: Org) -> None:
    make_key(org, "must", applies_to="tag", is_required=True)
    make_key(org, "maybe", applies_to="tag")
    make_key(org, "elsewhere", applies_to="folder")
    path = a_tag(org)
    missing = org.api.put(path + "/custom-fields", json={"custom_fields": {"maybe": "x"}})
    assert missing.status_code == 422 and "custom_fields.must" in missing.json()["errors"]
    assert org.api.put(path + "/custom-fields", json={"custom_fields": {}}).status_code == 422
    unknown = {"must": "x", "elsewhere": "y"}
    assert org.api.put(path + "/custom-fields", json={"custom_fields": unknown}).status_code == 422
    assert org.api.put(path + "/custom-fields", json={"custom_fields": []}).status_code == 422
    ok(org.api.patch(path + "/custom-fields/maybe", json={"value": "x"}))  # no required check
    assert fields(org.api, path) == {"maybe": "x"}
    put(org.api, path, {"must": "x", "maybe": "y"})

    maybe = ok(org.api.get(org.path("/custom-field-keys/maybe")))
    ok(org.api.put(org.path(f"/custom-field-keys/{maybe['id']}"), json={"is_active": False}))
    refused = org.api.patch(path + "/custom-fields/maybe", json={"value": "z"})
    assert refused.status_code == 422
    put(org.api, path, {"must": "x"})  # an inactive key's value is left as it is
    assert fields(org.api, path) == {"must": "x", "maybe": "y"}


def test_who_may_write(org: Org) -> None:
    for kind in ("member", "guest", "task", "folder", "process"):
        make_key(org, f"k_{kind}", applies_to=kind)
    standard_id, standard = org.member("standard")
    _, light = org.member("light")

    mine, admins = org.path(f"/users/{standard_id}"), a_member(org)
    put(standard, mine, {"k_member": "me"})
    assert standard.put(admins + "/custom-fields", json={"custom_fields": {}}).status_code == 403
    put(org.api, mine, {"k_member": "by admin"})
    assert fields(standard, mine) == {"k_member": "by admin"}

    guest = a_guest(org)
    assert standard.put(guest + "/custom-fields", json={"custom_fields": {}}).status_code == 403
    assert fields(standard, guest) == {}  # any member reads a guest's values

    task = a_task(org)
    refused = standard.patch(task + "/custom-fields/k_task", json={"value": "x"})
    assert refused.status_code == 403
    run_id, task_id = task.split("/runs/")[1].split("/tasks/")
    owners = {"users": [standard_id], "guests": [], "groups": []}
    ok(org.api.put(org.path(f"/runs/{run_id}/tasks/{task_id}"), json={"owners": owners}))
    ok(standard.patch(task + "/custom-fields/k_task", json={"value": "x"}))

    put(light, a_folder(org), {"k_folder": "anyone"})
    assert light.put(a_run(org) + "/custom-fields", json={"custom_fields": {}}).status_code == 403


def _execute(org: Org, statement: str, **params: Any) -> None:
    async def work() -> None:
        engine = make_engine(org.server.settings.resolved_database_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(text(statement), params)
        finally:
            await engine.dispose()

    asyncio.run(work())


def test_system_values_are_read_only(org: Org) -> None:
    make_key(org, "mine", applies_to="folder")
    sys_key = make_key(org, "platform", applies_to="folder")
    _execute(org, "UPDATE custom_field_keys SET key_type = 'system' WHERE id = :k", k=sys_key["id"])
    path = a_folder(org)
    folder_id = path.rsplit("/", 1)[1]
    _execute(
        org,
        "INSERT INTO custom_field_values (org_id, key_id, subject_type, subject_id, value,"
        " value_text, created_at, updated_at) VALUES (:o, :k, 'folder', :s, '\"v1\"', 'v1',"
        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        o=org.id,
        k=sys_key["id"],
        s=folder_id,
    )
    put(org.api, path, {"mine": "x"})
    assert fields(org.api, path) == {"mine": "x", "platform": "v1"}  # PUT keeps it
    written = org.api.put(path + "/custom-fields", json={"custom_fields": {"platform": "v2"}})
    assert written.status_code == 422
    assert org.api.delete(path + "/custom-fields/platform").status_code == 403
    assert org.api.delete(org.path(f"/custom-field-keys/{sys_key['id']}")).status_code == 403
    assert fields(org.api, path) == {"mine": "x", "platform": "v1"}


def test_a_tasks_value_changes_are_in_its_history(org: Org) -> None:
    make_key(org, "priority", applies_to="task")
    make_key(org, "region", applies_to="folder")
    task = a_task(org)
    task_id = task.rsplit("/", 1)[1]
    put(org.api, task, {"priority": "High"})
    ok(org.api.patch(task + "/custom-fields/priority", json={"value": "High"}))  # no change
    ok(org.api.delete(task + "/custom-fields/priority"))
    put(org.api, a_folder(org), {"region": "EU"})  # not a task: no history
    feed = ok(
        org.api.get(
            org.path("/activity-feeds"),
            params={"entity_type": "task", "entity_id": task_id, "type": "Task", "verb": "updated"},
        )
    )
    # The feed shows each of these as a one-item list.
    changes = [(e["field"], e["old_value"], e["new_value"]) for e in feed]
    assert sorted(changes, key=str) == sorted(
        [
            (["custom_fields"], [{}], [{"priority": "High"}]),
            (["custom_fields"], [{"priority": "High"}], [{}]),
        ],
        key=str,
    )


def test_a_number_that_json_cannot_store_is_refused(org: Org) -> None:
    make_key(org, "n", applies_to="folder", field_type="number")
    path = a_folder(org)
    headers = {"Content-Type": "application/json"}
    for raw in (b'{"value": NaN}', b'{"value": Infinity}'):
        sent = org.api.patch(path + "/custom-fields/n", content=raw, headers=headers)
        assert sent.status_code in (400, 422), sent.text
    assert fields(org.api, path) == {}


def test_a_member_is_named_by_their_user_id_only(org: Org) -> None:
    make_key(org, "desk", applies_to="member")
    put(org.api, a_member(org), {"desk": "4B"})
    assert fields(org.api, org.path(f"/users/000{org.admin_id}")) == {"desk": "4B"}
    for nobody in ("9" * 30, "me", "-1"):
        assert org.api.get(org.path(f"/users/{nobody}/custom-fields")).status_code == 404
        assert org.api.get(org.path(f"/guests/{nobody}/custom-fields")).status_code == 404
