"""Completing and reopening: which route takes which task, who may, and what is recorded."""

from __future__ import annotations

from typing import Any

from tests.conftest import Org
from tests.support.factories import checklist, ok, one_off_task, run


def run_tasks(org: Org, launched: dict[str, Any]) -> list[dict[str, Any]]:
    return ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))


def complete_in_run(org: Org, launched: dict[str, Any], task_id: str, **body: Any) -> Any:
    return org.api.post(
        org.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": task_id, **body}
    )


def complete(org: Org, task_id: str, **body: Any) -> Any:
    return org.api.post(org.path("/completed-tasks"), json={"task_id": task_id, **body})


def errors(response: Any, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] is True
    return body.get("errors", {})


def test_complete_answers_the_task_in_data(org: Org) -> None:
    launched = run(org, checklist(org, steps=1)["id"])
    (task,) = run_tasks(org, launched)
    response = complete_in_run(org, launched, task["id"])
    assert response.status_code == 200
    done = response.json()["data"]
    assert (done["id"], done["status"], done["status_label"]) == (
        task["id"],
        "completed",
        "Completed",
    )
    assert done["completed_at"] is not None and done["is_completable"] is False
    reopened = org.api.delete(org.path(f"/runs/{launched['id']}/completed-tasks/{task['id']}"))
    assert reopened.status_code == 200
    data = reopened.json()["data"]
    assert (data["status"], data["status_label"], data["completer_id"]) == (
        "in-progress",
        "In progress",
        None,
    )


def test_routes_take_only_their_own_tasks(org: Org) -> None:
    launched = run(org, checklist(org, steps=1)["id"])
    (process_task,) = run_tasks(org, launched)
    standalone = one_off_task(org)
    ad_hoc = one_off_task(org, run_id=launched["id"])
    # A standalone task is not the run's: 404 on the run route.
    assert errors(complete_in_run(org, launched, standalone["id"]), 404) == {}
    assert (
        org.api.delete(
            org.path(f"/runs/{launched['id']}/completed-tasks/{standalone['id']}")
        ).status_code
        == 404
    )
    # A step's task goes through its run.
    assert errors(complete(org, process_task["id"]), 400) == {}
    assert org.api.delete(org.path(f"/completed-tasks/{process_task['id']}")).status_code == 400
    # An ad-hoc task in a run: either route.
    assert ok(complete(org, ad_hoc["id"]))["status"] == "completed"
    reopened = ok(
        org.api.delete(org.path(f"/runs/{launched['id']}/completed-tasks/{ad_hoc['id']}"))
    )
    assert reopened["status"] == "in-progress"
    assert ok(complete_in_run(org, launched, ad_hoc["id"]))["status"] == "completed"
    assert errors(complete(org, "0" * 32), 404) == {}


def test_refusals_leave_the_task_open(org: Org) -> None:
    task = one_off_task(org)
    assert list(errors(org.api.post(org.path("/completed-tasks"), json={}))) == ["task_id"]
    assert list(errors(complete(org, task["id"], override_user=999_999))) == ["override_user"]
    assert list(errors(complete(org, task["id"], is_approved="perhaps"))) == ["is_approved"]
    assert ok(org.api.get(org.path(f"/tasks/{task['id']}")))["status"] == "not-started"
    assert list(errors(org.api.delete(org.path(f"/completed-tasks/{task['id']}")))) == ["task_id"]


def test_override_user_is_recorded_as_the_completer(org: Org) -> None:
    member_id, _ = org.member("standard")
    task = one_off_task(org)
    assert ok(complete(org, task["id"], override_user=member_id))["completer_id"] == member_id


def test_archived_and_skipped_tasks_cannot_be_completed(org: Org) -> None:
    task = one_off_task(org)
    ok(org.api.delete(org.path(f"/tasks/{task['id']}")))
    assert list(errors(complete(org, task["id"]))) == ["task_id"]
    done = one_off_task(org)
    ok(complete(org, done["id"]))
    ok(org.api.delete(org.path(f"/tasks/{done['id']}")))
    assert list(errors(org.api.delete(org.path(f"/completed-tasks/{done['id']}")))) == ["task_id"]


def test_admins_override_can_complete_only_assignees(org: Org) -> None:
    member_id, _ = org.member("standard")
    _, other_admin = org.member("admin")
    _, light = org.member("light")
    task = one_off_task(org, can_complete_only_assignees=True, owners={"users": [member_id]})
    with light:
        assert (
            errors(light.post(org.path("/completed-tasks"), json={"task_id": task["id"]}), 403)
            == {}
        )
    with other_admin:
        done = ok(other_admin.post(org.path("/completed-tasks"), json={"task_id": task["id"]}))
    assert done["status"] == "completed"


def test_everyone_must_complete_counts_each_assignee_once(org: Org) -> None:
    member_id, member = org.member("standard")
    task = one_off_task(
        org, everyone_must_complete=True, owners={"users": [org.admin_id, member_id]}
    )
    assert ok(complete(org, task["id"]))["status"] == "in-progress"
    assert list(errors(complete(org, task["id"]))) == ["task_id"]
    with member:
        done = ok(member.post(org.path("/completed-tasks"), json={"task_id": task["id"]}))
    assert done["status"] == "completed"
    # Reopening starts the count again.
    ok(org.api.delete(org.path(f"/completed-tasks/{task['id']}")))
    assert ok(complete(org, task["id"]))["status"] == "in-progress"


def test_everyone_must_complete_copied_from_the_step(org: Org) -> None:
    member_id, member = org.member("standard")
    template = checklist(org, steps=0)
    ok(
        org.api.post(
            org.path(f"/checklists/{template['id']}/steps"),
            json={
                "title": "Sign",
                "everyone_must_complete": True,
                "assignees": [org.admin_id, member_id],
            },
        ),
        201,
    )
    launched = run(org, template["id"])
    (task,) = run_tasks(org, launched)
    assert ok(complete_in_run(org, launched, task["id"]))["status"] == "in-progress"
    assert ok(org.api.get(org.path(f"/runs/{launched['id']}")))["status"] == "active"
    with member:
        ok(
            member.post(
                org.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": task["id"]}
            )
        )
    assert ok(org.api.get(org.path(f"/runs/{launched['id']}")))["status"] == "complete"


def test_required_step_fields_block_completion_of_a_process_task(org: Org) -> None:
    template = checklist(org, steps=1)
    step = ok(org.api.get(org.path(f"/checklists/{template['id']}/steps")))[0]
    field = ok(
        org.api.post(
            org.path(f"/checklists/{template['id']}/steps/{step['id']}/captures"),
            json={"label": "PO number", "field_type": "text", "required": True},
        ),
        201,
    )
    launched = run(org, template["id"])
    (task,) = run_tasks(org, launched)
    assert errors(complete_in_run(org, launched, task["id"])) == {
        f"taskdata.{field['id']}": ["PO number is required"]
    }
    ok(
        org.api.put(
            org.path(f"/runs/{launched['id']}/tasks/{task['id']}"),
            json={"taskdata": {field["id"]: "PO-1"}},
        )
    )
    assert ok(complete_in_run(org, launched, task["id"]))["status"] == "completed"


def test_completed_tasks_cannot_be_updated(org: Org) -> None:
    launched = run(org, checklist(org, steps=1)["id"])
    (task,) = run_tasks(org, launched)
    ok(complete_in_run(org, launched, task["id"]))
    path = org.path(f"/runs/{launched['id']}/tasks/{task['id']}")
    assert list(errors(org.api.put(path, json={"title": "Changed"}))) == ["status"]
