"""`separate_task_for_each_assignee`: one task per assignee in a shell run (launch without a
template)."""

from __future__ import annotations

from typing import Any

from tests.conftest import Org
from tests.support.factories import checklist, ok, one_off_task, run, with_owner_ids

BODY: dict[str, Any] = {
    "title": "Sign the handbook",
    "task_type": "task",
    "deadline": "2030-01-01T12:00:00Z",
    "separate_task_for_each_assignee": True,
}


def run_tasks(org: Org, run_id: str) -> list[dict[str, Any]]:
    return with_owner_ids(ok(org.api.get(org.path(f"/runs/{run_id}/tasks"))))


def test_one_task_per_assignee_in_a_shell_run(org: Org) -> None:
    member, _ = org.member("standard")
    in_group, _ = org.member("standard")
    group = ok(
        org.api.post(
            org.path("/groups"),
            json={"name": "Crew", "members": [in_group, member], "guests": ["g@example.com"]},
        ),
        201,
    )
    owners = {"users": [member, org.admin_id], "groups": [group["id"]], "guests": []}
    first = ok(org.api.post(org.path("/tasks"), json={**BODY, "owners": owners}), 201)
    shell = first["run"]["data"]
    assert shell["id"] == first["run_id"]
    assert shell["name"] == "Sign the handbook"
    assert shell["started_at"]
    assert (shell["owner_id"], shell["started_by"]) == (org.admin_id, org.admin_id)
    tasks = run_tasks(org, shell["id"])
    # The group expands to its members and guests; a member named twice gets one task.
    assert [t["owners"]["users"] or t["owners"]["guests"] for t in tasks] == [
        [member],
        [org.admin_id],
        [in_group],
        ["g@example.com"],
    ]
    assert first["id"] == tasks[0]["id"]
    assert {(t["title"], t["is_oneoff_task"], t["step_id"]) for t in tasks} == {
        ("Sign the handbook", True, None)
    }
    assert [t["position"] for t in tasks] == [1, 2, 3, 4]
    listed = ok(org.api.get(org.path(f"/runs/{shell['id']}")))
    assert listed["checklist_title"] == "MISC"


def test_shell_run_completes_through_its_run_and_takes_more_tasks(org: Org) -> None:
    member, _ = org.member("standard")
    body = {**BODY, "owners": {"users": [org.admin_id, member]}}
    first = ok(org.api.post(org.path("/tasks"), json=body), 201)
    run_id = first["run_id"]
    added = one_off_task(org, run_id=run_id, title="Extra", position=1)
    assert [t["title"] for t in run_tasks(org, run_id)][0] == "Extra"
    for task in [added, *run_tasks(org, run_id)[1:]]:
        ok(org.api.post(org.path(f"/runs/{run_id}/completed-tasks"), json={"task_id": task["id"]}))
    assert ok(org.api.get(org.path(f"/runs/{run_id}")))["status"] == "complete"


def test_separate_tasks_into_an_existing_run(org: Org) -> None:
    member, _ = org.member("standard")
    launched = run(org, checklist(org, steps=1)["id"])
    body = {**BODY, "owners": {"users": [org.admin_id, member]}, "run_id": launched["id"]}
    first = ok(org.api.post(org.path("/tasks"), json=body), 201)
    assert first["run_id"] == launched["id"]
    assert [t["owners"]["users"] for t in run_tasks(org, launched["id"])] == [
        [org.admin_id],
        [org.admin_id],
        [member],
    ]


def test_max_assignable_caps_each_separate_task(org: Org) -> None:
    member, _ = org.member("standard")
    body = {**BODY, "owners": {"users": [org.admin_id, member]}, "max_assignable": 1}
    first = ok(org.api.post(org.path("/tasks"), json=body), 201)
    assert len(run_tasks(org, first["run_id"])) == 2
    together = {**body, "separate_task_for_each_assignee": False}
    assert org.api.post(org.path("/tasks"), json=together).status_code == 422


def test_without_the_flag_one_standalone_task(org: Org) -> None:
    member, _ = org.member("standard")
    task = one_off_task(org, owners={"users": [org.admin_id, member]})
    assert task["run_id"] is None
    assert task["owners"]["users"] == [org.admin_id, member]
    assert "run" not in task


def test_refusals_make_nothing(org: Org) -> None:
    before = len(ok(org.api.get(org.path("/runs"))))
    refusals: list[dict[str, list[Any]]] = [
        {"users": []},
        {"users": [999_999]},
        {"groups": ["0" * 32]},
    ]
    for owners in refusals:
        refused = org.api.post(org.path("/tasks"), json={**BODY, "owners": owners})
        assert refused.status_code == 422, refused.text
    _, light = org.member("light")
    body = {**BODY, "owners": {"users": [org.admin_id]}}
    assert light.post(org.path("/tasks"), json=body).status_code == 403
    assert len(ok(org.api.get(org.path("/runs")))) == before
