"""Ad-hoc tasks in runs, clones, and task updates beyond the one-off basics."""

from __future__ import annotations

from typing import Any

from tests.conftest import Org
from tests.support.factories import checklist, ok, one_off_task, run, with_owner_ids


def run_tasks(org: Org, launched: dict[str, Any]) -> list[dict[str, Any]]:
    return with_owner_ids(ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks"))))


def titles(org: Org, launched: dict[str, Any]) -> list[tuple[str, int]]:
    return [(t["title"], t["position"]) for t in run_tasks(org, launched)]


def test_ad_hoc_task_at_a_position_moves_the_rest_down(org: Org) -> None:
    launched = run(org, checklist(org, steps=2)["id"])
    inserted = one_off_task(org, run_id=launched["id"], title="Inserted", position=2)
    assert (inserted["run_id"], inserted["step_id"], inserted["is_oneoff_task"]) == (
        launched["id"],
        None,
        True,
    )
    assert inserted["checklist_id"] == launched["checklist_id"]
    assert titles(org, launched) == [("Step 1", 1), ("Inserted", 2), ("Step 2", 3)]
    one_off_task(org, run_id=launched["id"], title="Far", position=99)
    assert titles(org, launched)[-1] == ("Far", 4)


def test_ad_hoc_task_refusals(org: Org) -> None:
    launched = run(org, checklist(org, steps=1)["id"])
    ok(org.api.delete(org.path(f"/runs/{launched['id']}")))
    body = {
        "title": "x",
        "task_type": "task",
        "owners": {"users": [org.admin_id]},
        "deadline": "2030-01-01T00:00:00Z",
    }
    for run_id in (launched["id"], "0" * 32):
        refused = org.api.post(org.path("/tasks"), json={**body, "run_id": run_id})
        assert refused.status_code == 422
        assert refused.json()["errors"] == {"run_id": ["The selected run id is invalid."]}
    assert org.api.post(org.path("/tasks"), json={**body, "position": 0}).status_code == 422


def test_clone_of_a_process_task_joins_its_run_and_reopens_it(org: Org) -> None:
    launched = run(org, checklist(org, steps=1)["id"])
    (task,) = run_tasks(org, launched)
    ok(
        org.api.post(
            org.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": task["id"]}
        )
    )
    copy = ok(org.api.post(org.path(f"/tasks/{task['id']}/clone")), 201)
    assert (copy["run_id"], copy["step_id"], copy["position"], copy["status"]) == (
        launched["id"],
        None,
        2,
        "not-started",
    )
    assert (copy["title"], copy["deadline"], copy["owners"]) == (
        task["title"],
        task["deadline"],
        task["owners"],
    )
    assert ok(org.api.get(org.path(f"/runs/{launched['id']}")))["status"] == "active"


def test_clone_into_a_run_without_ad_hoc_tasks_is_422(org: Org) -> None:
    launched = run(org, checklist(org, steps=1, can_add_oot=False)["id"])
    (task,) = run_tasks(org, launched)
    refused = org.api.post(org.path(f"/tasks/{task['id']}/clone"))
    assert refused.status_code == 422
    assert len(run_tasks(org, launched)) == 1
    assert org.api.post(org.path(f"/tasks/{'0' * 32}/clone")).status_code == 404


def test_max_assignable_caps_the_owners(org: Org) -> None:
    member_id, _ = org.member("standard")
    body = {
        "title": "x",
        "task_type": "task",
        "deadline": "2030-01-01T00:00:00Z",
        "owners": {"users": [org.admin_id, member_id]},
        "max_assignable": 1,
    }
    refused = org.api.post(org.path("/tasks"), json=body)
    assert refused.status_code == 422
    assert list(refused.json()["errors"]) == ["owners"]
    task = one_off_task(org, max_assignable=1)
    update = {"title": "x", "deadline": task["deadline"], "owners": body["owners"]}
    assert org.api.put(org.path(f"/tasks/{task['id']}"), json=update).status_code == 422
    widened = ok(
        org.api.put(org.path(f"/tasks/{task['id']}"), json={**update, "max_assignable": 0})
    )
    assert widened["owners"]["users"] == [org.admin_id, member_id]


def test_process_task_position_and_type_can_change(org: Org) -> None:
    launched = run(org, checklist(org, steps=3)["id"])
    third = run_tasks(org, launched)[2]
    path = org.path(f"/runs/{launched['id']}/tasks/{third['id']}")
    moved = ok(org.api.put(path, json={"position": 1, "task_type": "approval"}))
    assert (moved["position"], moved["task_type"]) == (1, "approval")
    assert [t for t, _ in titles(org, launched)] == ["Step 3", "Step 1", "Step 2"]
    assert org.api.put(path, json={"task_type": "meeting"}).status_code == 422
