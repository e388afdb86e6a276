from __future__ import annotations

from typing import Any

from tests.conftest import Org
from tests.support.factories import checklist, ok, one_off_task, run


def run_tasks(org: Org, launched: dict[str, Any]) -> list[dict[str, Any]]:
    return ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))


def complete(org: Org, launched: dict[str, Any], task_id: str, **body: Any) -> Any:
    return org.api.post(
        org.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": task_id, **body}
    )


def test_completing_every_task_completes_the_run_and_reopen_reactivates(org: Org) -> None:
    launched = run(org, checklist(org, steps=2)["id"])
    first, second = run_tasks(org, launched)
    done = ok(complete(org, launched, first["id"]))
    assert (done["status"], done["completer_id"]) == ("completed", org.admin_id)
    assert done["tasks_changed_by_rules"] == {}
    assert ok(org.api.get(org.path(f"/runs/{launched['id']}")))["status"] == "active"
    ok(complete(org, launched, second["id"]))
    finished = ok(org.api.get(org.path(f"/runs/{launched['id']}")))
    assert finished["status"] == "complete" and finished["progress"]["percent"] == 100
    reopened = ok(
        org.api.delete(org.path(f"/runs/{launched['id']}/completed-tasks/{second['id']}"))
    )
    assert (reopened["status"], reopened["completed_at"]) == ("in-progress", None)
    assert ok(org.api.get(org.path(f"/runs/{launched['id']}")))["status"] == "active"


def test_completion_refusals(org: Org) -> None:
    launched = run(org, checklist(org, steps=1)["id"])
    (task,) = run_tasks(org, launched)
    ok(complete(org, launched, task["id"]))
    assert complete(org, launched, task["id"]).status_code == 422
    other = run(org, checklist(org, steps=1)["id"])
    assert complete(org, other, task["id"]).status_code == 404
    reopen_open = org.api.delete(
        org.path(f"/runs/{other['id']}/completed-tasks/{run_tasks(org, other)[0]['id']}")
    )
    assert reopen_open.status_code == 422
    by_org_route = org.api.post(org.path("/completed-tasks"), json={"task_id": task["id"]})
    assert by_org_route.status_code == 400


def test_approval_needs_is_approved(org: Org) -> None:
    task = one_off_task(org, task_type="approval")
    refused = org.api.post(org.path("/completed-tasks"), json={"task_id": task["id"]})
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"is_approved": ["The is approved field is required"]}
    done = ok(
        org.api.post(
            org.path("/completed-tasks"), json={"task_id": task["id"], "is_approved": False}
        )
    )
    assert (done["status"], done["is_approved"]) == ("completed", False)
    reopened = ok(org.api.delete(org.path(f"/completed-tasks/{task['id']}")))
    assert (reopened["status"], reopened["is_approved"]) == ("in-progress", None)


def test_is_approved_is_false_on_tasks_without_a_decision(org: Org) -> None:
    """Tallyfy's examples show false on plain tasks; null stays for an undecided approval."""
    task = one_off_task(org)
    assert task["is_approved"] is False
    assert one_off_task(org, task_type="approval")["is_approved"] is None
    done = ok(org.api.post(org.path("/completed-tasks"), json={"task_id": task["id"]}))
    assert done["is_approved"] is False
    listed = ok(org.api.get(org.path("/tasks"), params={"status": "all"}))
    assert {t["task_type"]: t["is_approved"] for t in listed} == {"task": False, "approval": None}


def test_required_fields_must_be_filled(org: Org) -> None:
    task = one_off_task(org, form_fields=[{"label": "Ref", "field_type": "text", "required": True}])
    refused = org.api.post(org.path("/completed-tasks"), json={"task_id": task["id"]})
    assert refused.status_code == 422
    (key,) = refused.json()["errors"]
    field_id = key.removeprefix("taskdata.")
    org.api.put(
        org.path(f"/tasks/{task['id']}"),
        json={
            "title": task["title"],
            "deadline": task["deadline"],
            "owners": task["owners"],
            "taskdata": {field_id: "R-1"},
        },
    )
    assert (
        ok(org.api.post(org.path("/completed-tasks"), json={"task_id": task["id"]}))["status"]
        == "completed"
    )


def test_only_assignees_may_complete_when_the_task_says_so(org: Org) -> None:
    member_id, member = org.member("standard")
    _, outsider = org.member("standard")
    task = one_off_task(org, can_complete_only_assignees=True, owners={"users": [member_id]})
    body = {"task_id": task["id"]}
    assert outsider.post(org.path("/completed-tasks"), json=body).status_code == 403
    assert ok(member.post(org.path("/completed-tasks"), json=body))["status"] == "completed"


def test_everyone_must_complete(org: Org) -> None:
    member_id, member = org.member("standard")
    task = one_off_task(
        org, everyone_must_complete=True, owners={"users": [org.admin_id, member_id]}
    )
    body = {"task_id": task["id"]}
    first = ok(org.api.post(org.path("/completed-tasks"), json=body))
    assert first["status"] == "in-progress"
    assert ok(member.post(org.path("/completed-tasks"), json=body))["status"] == "completed"


def test_member_task_lists_and_filters(org: Org) -> None:
    member_id, member = org.member("standard")
    mine = one_off_task(org, owners={"users": [member_id]}, deadline="2020-01-01T00:00:00Z")
    theirs = one_off_task(org)
    assert [t["id"] for t in ok(member.get(org.path("/me/tasks")))] == [mine["id"]]
    listed = ok(org.api.get(org.path(f"/users/{member_id}/tasks")))
    assert [t["id"] for t in listed] == [mine["id"]]
    overdue = ok(org.api.get(org.path("/tasks"), params={"status": "overdue"}))
    assert [t["id"] for t in overdue] == [mine["id"]]
    by_owner = ok(org.api.get(org.path("/tasks"), params={"owners": str(org.admin_id)}))
    assert [t["id"] for t in by_owner] == [theirs["id"]]
    ordered = ok(org.api.get(org.path("/tasks"), params={"sort": "deadline"}))
    assert [t["id"] for t in ordered] == [mine["id"], theirs["id"]]
    assert org.api.get(org.path("/users/999999/tasks")).status_code == 404
    ok(org.api.post(org.path("/completed-tasks"), json={"task_id": theirs["id"]}))
    done = ok(org.api.get(org.path("/tasks"), params={"status": "complete"}))
    assert [t["id"] for t in done] == [theirs["id"]]


def test_ad_hoc_task_joins_a_run_that_allows_it(org: Org) -> None:
    launched = run(org, checklist(org, steps=1)["id"])
    extra = one_off_task(org, run_id=launched["id"])
    assert (extra["run_id"], extra["is_oneoff_task"], extra["position"]) == (
        launched["id"],
        True,
        2,
    )
    assert len(run_tasks(org, launched)) == 2
    closed = run(org, checklist(org, steps=1, can_add_oot=False)["id"])
    refused = org.api.post(
        org.path("/tasks"),
        json={
            "title": "x",
            "task_type": "task",
            "owners": {"users": [org.admin_id]},
            "deadline": "2030-01-01T00:00:00Z",
            "run_id": closed["id"],
        },
    )
    assert refused.status_code == 422
    assert refused.json()["errors"]["run_id"] == ["Ad-hoc tasks not allowed for this process"]


def test_clone_copies_the_task_not_its_state(org: Org) -> None:
    task = one_off_task(org, form_fields=[{"label": "Ref", "field_type": "text"}])
    ok(org.api.post(org.path("/completed-tasks"), json={"task_id": task["id"]}))
    copy = ok(org.api.post(org.path(f"/tasks/{task['id']}/clone")), 201)
    assert copy["id"] != task["id"]
    assert (copy["title"], copy["status"], copy["owners"]) == (
        task["title"],
        "not-started",
        task["owners"],
    )
    fields = ok(org.api.get(org.path(f"/tasks/{copy['id']}"), params={"with": "form_fields"}))
    assert [f["label"] for f in fields["form_fields"]["data"]] == ["Ref"]
