"""One-off tasks over HTTP: create and its validation, read, archive/restore, permanent delete."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import Org
from tests.support.factories import (
    db_count,
    ids,
    ok,
    one_off_task,
    run,
    stored_bytes,
    upload,
)

NOT_FOUND = {"error": True, "message": "Resource not found", "code": "RESOURCE_NOT_FOUND"}
UNKNOWN_ID = "0" * 32
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
VALID = {
    "title": "Call the customer",
    "task_type": "task",
    "deadline": "2030-01-01T12:00:00Z",
}


def listed(org: Org, **params: Any) -> list[str]:
    return ids(ok(org.api.get(org.path("/tasks"), params={"per_page": 100, **params})))


def run_task(org: Org) -> dict[str, Any]:
    launched = run(org)
    return ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))[0]


def refused(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] is True
    return body


# --- create ------------------------------------------------------------------------------------


def test_create_one_off_task(org: Org) -> None:
    task = one_off_task(org, title="Send the contract", summary="Before Friday")
    assert task["title"] == "Send the contract"
    assert task["summary"] == "Before Friday"
    assert task["task_type"] == "task"
    assert task["owners"] == {"users": [org.admin_id], "guests": [], "groups": []}
    assert task["deadline"] == "2030-01-01T12:00:00Z"
    assert task["is_oneoff_task"] is True
    assert task["run_id"] is None
    assert task["status"] == "not-started"
    assert task["archived_at"] is None
    assert ok(org.api.get(org.path(f"/tasks/{task['id']}")))["id"] == task["id"]


@pytest.mark.parametrize("missing", ["title", "owners", "deadline"])
def test_create_requires_field(org: Org, missing: str) -> None:
    body = {**VALID, "owners": {"users": [org.admin_id]}}
    del body[missing]
    answer = refused(org.api.post(org.path("/tasks"), json=body), 422)
    assert answer["errors"] == {missing: [f"The {missing} field is required."]}
    assert listed(org) == []


def test_create_reports_every_missing_field(org: Org) -> None:
    answer = refused(org.api.post(org.path("/tasks"), json={"task_type": "task"}), 422)
    assert set(answer["errors"]) == {"title", "owners", "deadline"}


@pytest.mark.parametrize("deadline", ["next tuesday", "2030-13-45T99:00:00Z", ""])
def test_create_rejects_bad_deadline(org: Org, deadline: str) -> None:
    body = {**VALID, "owners": {"users": [org.admin_id]}, "deadline": deadline}
    answer = refused(org.api.post(org.path("/tasks"), json=body), 422)
    assert list(answer["errors"]) == ["deadline"]


def test_create_rejects_owner_not_in_org(org: Org) -> None:
    outsider = org.server.new_org("Elsewhere")
    for stranger in (999_999, outsider.user_id):
        body = {**VALID, "owners": {"users": [org.admin_id, stranger]}}
        answer = refused(org.api.post(org.path("/tasks"), json=body), 422)
        assert answer["errors"] == {"owners.users.1": ["The selected owners.users is invalid."]}
    assert listed(org) == []


def test_create_rejects_empty_owners(org: Org) -> None:
    answer = refused(org.api.post(org.path("/tasks"), json={**VALID, "owners": {}}), 422)
    assert list(answer["errors"]) == ["owners"]


def test_create_rejects_unknown_task_type(org: Org) -> None:
    body = {**VALID, "owners": {"users": [org.admin_id]}, "task_type": "meeting"}
    answer = refused(org.api.post(org.path("/tasks"), json=body), 422)
    assert answer["errors"] == {"task_type": ["The selected task type is invalid."]}


# --- read --------------------------------------------------------------------------------------


def test_get_unknown_task_is_404(org: Org) -> None:
    response = org.api.get(org.path(f"/tasks/{UNKNOWN_ID}"))
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_task_of_another_org_is_not_found(org: Org) -> None:
    task = one_off_task(org)
    other = org.server.new_org("Other")
    with org.server.client(other.token) as stranger:
        response = stranger.get(f"/organizations/{other.org_id}/tasks/{task['id']}")
        assert response.status_code == 404
        assert response.json() == NOT_FOUND
        # Nor can it be archived or deleted from there.
        assert (
            stranger.delete(f"/organizations/{other.org_id}/tasks/{task['id']}").status_code == 404
        )
        assert (
            stranger.delete(f"/organizations/{other.org_id}/tasks/{task['id']}/delete").status_code
            == 404
        )
        # And the other org's path itself is closed to the stranger.
        assert stranger.get(org.path(f"/tasks/{task['id']}")).status_code == 403
    assert ok(org.api.get(org.path(f"/tasks/{task['id']}")))["archived_at"] is None


# --- archive / restore -------------------------------------------------------------------------


def test_archive_returns_the_archived_task(org: Org) -> None:
    task = one_off_task(org)
    response = org.api.delete(org.path(f"/tasks/{task['id']}"))
    archived = ok(response)
    assert set(response.json()) == {"data"}
    assert archived["id"] == task["id"]
    assert ISO_Z.match(archived["archived_at"]), archived["archived_at"]
    assert (
        ok(org.api.get(org.path(f"/tasks/{task['id']}")))["archived_at"]
        == (archived["archived_at"])
    )


def test_archived_task_leaves_default_list(org: Org) -> None:
    kept, gone = one_off_task(org, title="Kept"), one_off_task(org, title="Gone")
    ok(org.api.delete(org.path(f"/tasks/{gone['id']}")))
    assert listed(org) == [kept["id"]]
    assert sorted(listed(org, archived="true")) == sorted([kept["id"], gone["id"]])
    assert listed(org, archived="only") == [gone["id"]]
    meta = org.api.get(org.path("/tasks")).json()["meta"]["pagination"]
    assert meta["total"] == 1


def test_restore_brings_task_back(org: Org) -> None:
    task = one_off_task(org)
    ok(org.api.delete(org.path(f"/tasks/{task['id']}")))
    restored = ok(org.api.put(org.path(f"/tasks/{task['id']}/restore")))
    assert restored["id"] == task["id"]
    assert restored["archived_at"] is None
    assert listed(org) == [task["id"]]
    assert listed(org, archived="only") == []


def test_archive_and_restore_hide_and_show_task_files(org: Org) -> None:
    task = one_off_task(org)
    asset = upload(org, "Task", task["id"])
    metadata = org.path(f"/assets/{asset['id']}")
    ok(org.api.delete(org.path(f"/tasks/{task['id']}")))
    assert org.api.get(metadata).status_code == 404
    assert stored_bytes(org, asset["id"]).is_file()
    ok(org.api.put(org.path(f"/tasks/{task['id']}/restore")))
    assert ok(org.api.get(metadata))[0]["id"] == asset["id"]


def test_archive_by_standard_member_is_allowed(org: Org) -> None:
    task = one_off_task(org)
    _, standard = org.member("standard")
    with standard:
        assert ok(standard.delete(org.path(f"/tasks/{task['id']}")))["archived_at"]


def test_archive_unknown_task_is_404(org: Org) -> None:
    response = org.api.delete(org.path(f"/tasks/{UNKNOWN_ID}"))
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_archive_task_of_a_run_is_400(org: Org) -> None:
    task = run_task(org)
    answer = refused(org.api.delete(org.path(f"/tasks/{task['id']}")), 400)
    assert answer["code"] == "BAD_REQUEST"
    assert ok(org.api.get(org.path(f"/tasks/{task['id']}")))["archived_at"] is None


def test_archive_by_light_member_is_403(org: Org) -> None:
    task = one_off_task(org)
    _, light = org.member("light")
    with light:
        refused(light.delete(org.path(f"/tasks/{task['id']}")), 403)
    assert listed(org) == [task["id"]]


def test_restore_refusals(org: Org) -> None:
    response = org.api.put(org.path(f"/tasks/{UNKNOWN_ID}/restore"))
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    refused(org.api.put(org.path(f"/tasks/{run_task(org)['id']}/restore")), 400)


# --- permanent delete --------------------------------------------------------------------------


def test_delete_is_204_with_empty_body(org: Org) -> None:
    task = one_off_task(org)
    response = org.api.delete(org.path(f"/tasks/{task['id']}/delete"))
    assert response.status_code == 204
    assert response.content == b""
    gone = org.api.get(org.path(f"/tasks/{task['id']}"))
    assert gone.status_code == 404
    assert gone.json() == NOT_FOUND
    assert listed(org, archived="true") == []


def test_delete_takes_form_fields_and_files(org: Org) -> None:
    task = one_off_task(
        org,
        form_fields=[
            {"label": "Invoice number", "field_type": "text", "required": True},
            {"label": "Notes", "field_type": "textarea"},
        ],
    )
    fields = ok(org.api.get(org.path(f"/tasks/{task['id']}"), params={"with": "form_fields"}))[
        "form_fields"
    ]["data"]
    assert [f["label"] for f in fields] == ["Invoice number", "Notes"]
    asset = upload(org, "Task", task["id"], content=b"receipt bytes")
    assert stored_bytes(org, asset["id"]).read_bytes() == b"receipt bytes"

    assert org.api.delete(org.path(f"/tasks/{task['id']}/delete")).status_code == 204

    assert org.api.get(org.path(f"/tasks/{task['id']}")).status_code == 404
    assert org.api.get(org.path(f"/assets/{asset['id']}")).status_code == 404
    assert not stored_bytes(org, asset["id"]).exists()
    assert db_count(org, "captures", "task_id = :t", t=task["id"]) == 0
    assert db_count(org, "task_owners", "task_id = :t", t=task["id"]) == 0


def test_delete_leaves_other_tasks_alone(org: Org) -> None:
    doomed, kept = (
        one_off_task(org),
        one_off_task(org, form_fields=[{"label": "Notes", "field_type": "text"}]),
    )
    kept_asset = upload(org, "Task", kept["id"])
    assert org.api.delete(org.path(f"/tasks/{doomed['id']}/delete")).status_code == 204
    assert listed(org) == [kept["id"]]
    assert ok(org.api.get(org.path(f"/assets/{kept_asset['id']}")))[0]["id"] == kept_asset["id"]
    assert stored_bytes(org, kept_asset["id"]).is_file()
    assert db_count(org, "captures", "task_id = :t", t=kept["id"]) == 1


def test_delete_archived_task(org: Org) -> None:
    task = one_off_task(org)
    asset = upload(org, "Task", task["id"])
    ok(org.api.delete(org.path(f"/tasks/{task['id']}")))
    assert org.api.delete(org.path(f"/tasks/{task['id']}/delete")).status_code == 204
    assert org.api.get(org.path(f"/tasks/{task['id']}")).status_code == 404
    assert not stored_bytes(org, asset["id"]).exists()


def test_delete_by_another_admin_is_allowed(org: Org) -> None:
    task = one_off_task(org)
    _, admin = org.member("admin")
    with admin:
        assert admin.delete(org.path(f"/tasks/{task['id']}/delete")).status_code == 204
    assert org.api.get(org.path(f"/tasks/{task['id']}")).status_code == 404


def test_delete_unknown_task_is_404(org: Org) -> None:
    response = org.api.delete(org.path(f"/tasks/{UNKNOWN_ID}/delete"))
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_delete_task_of_a_run_is_400(org: Org) -> None:
    task = run_task(org)
    answer = refused(org.api.delete(org.path(f"/tasks/{task['id']}/delete")), 400)
    assert answer["code"] == "BAD_REQUEST"
    assert ok(org.api.get(org.path(f"/tasks/{task['id']}")))["id"] == task["id"]


@pytest.mark.parametrize("role", ["standard", "light"])
def test_delete_by_non_admin_is_403(org: Org, role: str) -> None:
    task = one_off_task(org)
    asset = upload(org, "Task", task["id"])
    _, member = org.member(role)
    with member:
        answer = refused(member.delete(org.path(f"/tasks/{task['id']}/delete")), 403)
    assert answer["code"] == "FORBIDDEN"
    assert ok(org.api.get(org.path(f"/tasks/{task['id']}")))["id"] == task["id"]
    assert stored_bytes(org, asset["id"]).is_file()
