"""A run after launch: partial update, the kick-off form, status and progress, lists."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Org
from tests.support.factories import checklist, group, ids, ok, one_off_task, run


def tasks_of(org: Org, launched: dict[str, Any]) -> list[dict[str, Any]]:
    return ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))


def complete(org: Org, launched: dict[str, Any], task_id: str) -> Any:
    return ok(
        org.api.post(org.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": task_id})
    )


def read(org: Org, launched: dict[str, Any], **params: str) -> dict[str, Any]:
    return ok(org.api.get(org.path(f"/runs/{launched['id']}"), params=params))


def listed(org: Org, **params: Any) -> list[str]:
    return ids(ok(org.api.get(org.path("/runs"), params={"per_page": 100, **params})))


def put(org: Org, launched: dict[str, Any], body: dict[str, Any]) -> Any:
    return org.api.put(org.path(f"/runs/{launched['id']}"), json=body)


def kickoff_template(org: Org) -> tuple[dict[str, Any], str, str]:
    """A template with a required text kick-off field and an optional email one."""
    made = checklist(org, steps=1)
    ok(
        org.api.put(
            org.path(f"/checklists/{made['id']}"),
            json={
                "title": made["title"],
                "prerun": [
                    {"label": "Client", "field_type": "text", "required": True},
                    {"label": "Contact", "field_type": "email"},
                ],
            },
        )
    )
    required, optional = ok(org.api.get(org.path(f"/checklists/{made['id']}")))["prerun"]
    return made, required["id"], optional["id"]


# --- partial update ---------------------------------------------------------------------------


def test_update_changes_only_what_is_sent(org: Org) -> None:
    member_id, _ = org.member("standard")
    team = group(org)
    launched = run(org, name="Before", summary="Kept", users=[org.admin_id], groups=[team])
    updated = ok(
        put(
            org,
            launched,
            {
                "name": "After",
                "starred": True,
                "is_public": True,
                "owner_id": member_id,
                "users": [member_id],
            },
        )
    )
    assert (updated["name"], updated["summary"], updated["starred"], updated["is_public"]) == (
        "After",
        "Kept",
        True,
        True,
    )
    assert (updated["owner_id"], updated["users"], updated["groups"]) == (
        member_id,
        [member_id],
        [team],
    )
    emptied = ok(put(org, launched, {"users": [], "groups": []}))
    assert (emptied["users"], emptied["groups"], emptied["name"]) == ([], [], "After")


@pytest.mark.parametrize(
    "body, key",
    [
        ({"name": "x" * 551}, "name"),
        ({"name": ""}, "name"),
        ({"owner_id": 999_999}, "owner_id"),
        ({"users": [999_999]}, "users.0"),
        ({"prerun": ["x"]}, "prerun"),
        ({"starred": "sometimes"}, "starred"),
    ],
)
def test_update_refusals(org: Org, body: dict[str, Any], key: str) -> None:
    launched = run(org, name="Unchanged")
    response = put(org, launched, body)
    assert response.status_code == 422, response.text
    assert list(response.json()["errors"]) == [key]
    assert read(org, launched)["name"] == "Unchanged"


def test_prerun_update_is_validated_and_merged(org: Org) -> None:
    template, client, contact = kickoff_template(org)
    launched = run(org, template["id"], prerun={client: "Acme"})
    bad = put(org, launched, {"prerun": {contact: "not an email"}})
    assert bad.status_code == 422
    assert list(bad.json()["errors"]) == [f"prerun.{contact}"]
    merged = ok(put(org, launched, {"prerun": {contact: "a@b.co", "unknown": "dropped"}}))
    assert merged["prerun"] == {client: "Acme", contact: "a@b.co"}
    cleared = ok(put(org, launched, {"prerun": {contact: ""}}))
    assert cleared["prerun"] == {client: "Acme"}
    refused = put(org, launched, {"prerun": {client: ""}})
    assert refused.status_code == 422
    assert refused.json()["errors"] == {f"prerun.{client}": ["Client is required"]}


def test_archived_run_cannot_be_updated(org: Org) -> None:
    launched = run(org, name="Old")
    ok(org.api.delete(org.path(f"/runs/{launched['id']}")))
    assert put(org, launched, {"name": "New"}).status_code == 422
    assert org.api.post(org.path(f"/runs/{launched['id']}/complete-prerun")).status_code == 422
    ok(org.api.put(org.path(f"/runs/{launched['id']}/activate")))
    assert ok(put(org, launched, {"name": "New"}))["name"] == "New"


def test_unknown_run_update_is_404(org: Org) -> None:
    assert org.api.put(org.path(f"/runs/{'0' * 32}"), json={"name": "x"}).status_code == 404


# --- kick-off form and run status -------------------------------------------------------------


def test_kickoff_form_submission_counts_for_completion(org: Org) -> None:
    launched = run(org, checklist(org, steps=1)["id"])
    assert launched["prerun_status"] == "complete"
    assert launched["prerun_completed_by"] == org.admin_id
    reopened = ok(org.api.delete(org.path(f"/runs/{launched['id']}/complete-prerun")))
    assert (reopened["prerun_status"], reopened["prerun_completed_at"]) == ("in-progress", None)
    (task,) = tasks_of(org, launched)
    complete(org, launched, task["id"])
    assert read(org, launched)["status"] == "active"
    submitted = ok(org.api.post(org.path(f"/runs/{launched['id']}/complete-prerun")))
    assert (submitted["status"], submitted["prerun_status"]) == ("complete", "complete")
    assert submitted["completed_at"] is not None
    again = ok(org.api.delete(org.path(f"/runs/{launched['id']}/complete-prerun")))
    assert (again["status"], again["completed_at"]) == ("active", None)


def test_adding_a_task_to_a_complete_run_reopens_it(org: Org) -> None:
    launched = run(org, checklist(org, steps=1)["id"])
    complete(org, launched, tasks_of(org, launched)[0]["id"])
    assert read(org, launched)["status"] == "complete"
    one_off_task(org, run_id=launched["id"])
    again = read(org, launched)
    assert (again["status"], again["completed_at"], again["progress"]) == (
        "active",
        None,
        {"complete": 1, "total": 2, "percent": 50},
    )


def test_run_reports_lateness(org: Org) -> None:
    launched = run(org, checklist(org, steps=2)["id"])
    first, second = tasks_of(org, launched)
    body = {"deadline": "2020-01-01T00:00:00Z"}
    ok(org.api.put(org.path(f"/runs/{launched['id']}/tasks/{first['id']}"), json=body))
    late = read(org, launched)
    assert (late["late_tasks"], late["due_date"] == second["deadline"]) == (1, True)
    assert (late["due_date_passed"], late["max_task_deadline"]) == (False, second["deadline"])
    assert listed(org, status="delayed") == [launched["id"]]
    complete(org, launched, first["id"])
    assert read(org, launched)["late_tasks"] == 0
    assert listed(org, status="delayed") == []


# --- lists ------------------------------------------------------------------------------------


def test_status_filters(org: Org) -> None:
    template = checklist(org, steps=1)
    active, done, gone = run(org, template["id"]), run(org, template["id"]), run(org)
    complete(org, done, tasks_of(org, done)[0]["id"])
    ok(org.api.delete(org.path(f"/runs/{gone['id']}")))
    assert listed(org, status="active") == [active["id"]]
    assert listed(org, status="complete") == [done["id"]]
    assert listed(org, status="completed") == [done["id"]]
    assert listed(org, status="archived") == [gone["id"]]
    assert listed(org, status="problem") == []
    assert sorted(listed(org)) == sorted([active["id"], done["id"]])


def test_search_template_type_and_order_filters(org: Org) -> None:
    first, second = checklist(org, steps=1), checklist(org, steps=1, type="form")
    a = run(org, first["id"], name="Alpha audit")
    b = run(org, second["id"], name="Beta review")
    c = run(org, first["id"], name="Gamma AUDIT")
    assert listed(org, q="audit") == [c["id"], a["id"]]
    assert listed(org, checklist_id=first["id"], sort="created_at") == [a["id"], c["id"]]
    assert listed(org, blueprint_id=second["id"]) == [b["id"]]
    assert listed(org, type="form") == [b["id"]]
    assert listed(org, sort_by="-created_at") == [c["id"], b["id"], a["id"]]
    assert listed(org, sort="name") == [a["id"], b["id"], c["id"]]


def test_owners_filter_is_owner_or_assignee(org: Org) -> None:
    member_id, _ = org.member("standard")
    other_id, _ = org.member("standard")
    template = checklist(org, steps=1)
    owned = run(org, template["id"], owner_id=member_id)
    assigned = run(org, template["id"])
    ok(
        org.api.put(
            org.path(f"/runs/{assigned['id']}/tasks/{tasks_of(org, assigned)[0]['id']}"),
            json={"owners": {"users": [member_id]}},
        )
    )
    run(org, template["id"])
    assert sorted(listed(org, owners=str(member_id))) == sorted([owned["id"], assigned["id"]])
    assert listed(org, owners=f"{other_id}") == []
    bad = org.api.get(org.path("/runs"), params={"owners": "ada"})
    assert bad.status_code == 422
    assert list(bad.json()["errors"]) == ["owners"]


def test_list_includes_tasks_and_next_task_for_each_run(org: Org) -> None:
    template = checklist(org, steps=2)
    first, second = run(org, template["id"]), run(org, template["id"])
    first_tasks = tasks_of(org, first)
    complete(org, first, first_tasks[0]["id"])
    for task in tasks_of(org, second):
        complete(org, second, task["id"])
    reads = {
        r["id"]: r for r in ok(org.api.get(org.path("/runs"), params={"with": "tasks,next_task"}))
    }
    assert ids(reads[first["id"]]["tasks"]["data"]) == ids(first_tasks)
    assert reads[first["id"]]["next_task"]["data"]["id"] == first_tasks[1]["id"]
    assert reads[second["id"]]["next_task"] == {"data": None}
    assert "tasks" not in ok(org.api.get(org.path("/runs")))[0]


def test_without_pagination_lists_everything(org: Org) -> None:
    template = checklist(org, steps=12)
    launched = run(org, template["id"])
    path = org.path(f"/runs/{launched['id']}/tasks")
    assert len(ok(org.api.get(path))) == 10
    everything = org.api.get(path, params={"without_pagination": "true"}).json()
    assert len(everything["data"]) == 12
    assert everything["meta"]["pagination"]["total_pages"] == 1
