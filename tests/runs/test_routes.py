"""Runs over HTTP: launch, read, list, archive/activate with tasks and files, permanent delete."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import Org
from tests.support.factories import (
    checklist,
    ids,
    ok,
    one_off_task,
    run,
    run_upload,
    stored_bytes,
    upload,
)

NOT_FOUND = {"error": True, "message": "Resource not found", "code": "RESOURCE_NOT_FOUND"}
UNKNOWN_ID = "0" * 32
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def runs_listed(org: Org, **params: Any) -> list[str]:
    return ids(ok(org.api.get(org.path("/runs"), params={"per_page": 100, **params})))


def tasks_listed(org: Org, **params: Any) -> list[str]:
    return ids(ok(org.api.get(org.path("/tasks"), params={"per_page": 100, **params})))


def tasks_of(org: Org, run_id: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = ok(
        org.api.get(org.path(f"/runs/{run_id}"), params={"with": "tasks"})
    )["tasks"]["data"]
    return data


def metadata_status(org: Org, asset_id: str) -> int:
    return org.api.get(org.path(f"/assets/{asset_id}")).status_code


def run_with_files(org: Org) -> tuple[dict[str, Any], list[str], list[str]]:
    """A run, its task ids, and two files: one on the run, one on its first task."""
    launched = run(org)
    task_ids = ids(tasks_of(org, launched["id"]))
    files = [run_upload(org, launched)["id"], upload(org, "Task", task_ids[0])["id"]]
    return launched, task_ids, files


def assert_not_found(response: Any) -> None:
    assert response.status_code == 404, response.text
    assert response.json() == NOT_FOUND


# --- launch ------------------------------------------------------------------------------------


def test_launch_creates_one_task_per_step_in_order(org: Org) -> None:
    template = checklist(org, steps=3)
    launched = run(org, template["id"], name="Onboard Ada")
    assert launched["name"] == "Onboard Ada"
    assert launched["status"] == "active"
    assert launched["checklist_id"] == template["id"]
    assert launched["archived_at"] is None
    assert launched["progress"] == {"complete": 0, "total": 3, "percent": 0}

    tasks = tasks_of(org, launched["id"])
    assert [t["title"] for t in tasks] == ["Step 1", "Step 2", "Step 3"]
    assert [t["position"] for t in tasks] == [1, 2, 3]
    assert {t["run_id"] for t in tasks} == {launched["id"]}
    assert not any(t["is_oneoff_task"] for t in tasks)
    steps = ok(org.api.get(org.path(f"/checklists/{template['id']}/steps")))
    assert [t["step_id"] for t in tasks] == ids(steps)


def test_run_tasks_are_paginated(org: Org) -> None:
    launched = run(org, checklist(org, steps=3)["id"])
    expected = ids(tasks_of(org, launched["id"]))
    listing = org.api.get(org.path(f"/runs/{launched['id']}/tasks")).json()
    assert ids(listing["data"]) == expected
    assert listing["meta"]["pagination"]["total"] == 3
    assert listing["meta"]["pagination"]["count"] == 3

    first = org.api.get(org.path(f"/runs/{launched['id']}/tasks"), params={"per_page": 2}).json()
    assert ids(first["data"]) == expected[:2]
    page = first["meta"]["pagination"]
    assert (page["total"], page["count"], page["total_pages"], page["has_more_pages"]) == (
        3,
        2,
        2,
        True,
    )
    second = org.api.get(page["links"]["next"]).json()
    assert ids(second["data"]) == expected[2:]


def test_launch_with_unknown_checklist_is_422(org: Org) -> None:
    response = org.api.post(org.path("/runs"), json={"checklist_id": UNKNOWN_ID})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] is True
    assert body["errors"] == {"checklist_id": ["The selected checklist id is invalid."]}
    assert runs_listed(org, archived="true") == []


def test_launch_with_checklist_of_another_org_is_422(org: Org) -> None:
    template = checklist(org)
    other = org.server.new_org("Other")
    with org.server.client(other.token) as stranger:
        response = stranger.post(
            f"/organizations/{other.org_id}/runs", json={"checklist_id": template["id"]}
        )
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["checklist_id"]


def test_launch_without_checklist_id_is_422(org: Org) -> None:
    response = org.api.post(org.path("/runs"), json={"name": "No template"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"checklist_id": ["The checklist id field is required."]}


def test_launch_names_the_run_when_no_name_given(org: Org) -> None:
    launched = run(org, checklist(org, title="Hiring")["id"])
    assert re.fullmatch(r"Hiring - \d{4}-\d{2}-\d{2} \d{2}:\d{2}", launched["name"]), launched[
        "name"
    ]


def test_increment_id_counts_per_org(org: Org) -> None:
    template = checklist(org)
    numbers = [run(org, template["id"])["increment_id"] for _ in range(3)]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]
    other = org.server.new_org("Other")
    with org.server.client(other.token) as api:
        other_template = api.post(
            f"/organizations/{other.org_id}/checklists", json={"title": "T", "type": "procedure"}
        ).json()["data"]
        first = api.post(
            f"/organizations/{other.org_id}/runs", json={"checklist_id": other_template["id"]}
        ).json()["data"]
    assert first["increment_id"] == numbers[0]


# --- read and list -----------------------------------------------------------------------------


def test_get_unknown_run_is_404(org: Org) -> None:
    assert_not_found(org.api.get(org.path(f"/runs/{UNKNOWN_ID}")))
    assert_not_found(org.api.get(org.path(f"/runs/{UNKNOWN_ID}/tasks")))


def test_run_of_another_org_is_not_found(org: Org) -> None:
    launched = run(org)
    other = org.server.new_org("Other")
    with org.server.client(other.token) as stranger:
        assert_not_found(stranger.get(f"/organizations/{other.org_id}/runs/{launched['id']}"))
        assert_not_found(
            stranger.delete(f"/organizations/{other.org_id}/runs/{launched['id']}/delete")
        )
    assert ok(org.api.get(org.path(f"/runs/{launched['id']}")))["id"] == launched["id"]


def test_list_pagination_meta(org: Org) -> None:
    template = checklist(org, steps=1)
    made = [run(org, template["id"], name=f"Run {i}")["id"] for i in range(3)]
    response = org.api.get(org.path("/runs"), params={"per_page": 1})
    body = response.json()
    page = body["meta"]["pagination"]
    assert len(body["data"]) == 1
    assert {k: v for k, v in page.items() if k != "links"} == {
        "total": 3,
        "count": 1,
        "per_page": 1,
        "current_page": 1,
        "total_pages": 3,
        "has_more_pages": True,
    }
    following = page["links"]["next"]
    assert following.startswith("http")
    assert "page=2" in following and "per_page=1" in following

    seen = ids(body["data"])
    while "next" in page["links"]:
        body = org.api.get(page["links"]["next"]).json()
        page = body["meta"]["pagination"]
        seen += ids(body["data"])
    assert sorted(seen) == sorted(made)
    assert page["current_page"] == 3
    assert page["has_more_pages"] is False
    assert page["links"]["previous"].startswith("http")


def test_per_page_is_capped_at_100(org: Org) -> None:
    run(org)
    page = org.api.get(org.path("/runs"), params={"per_page": 500}).json()["meta"]["pagination"]
    assert page["per_page"] == 100
    assert page["total"] == 1
    assert page["total_pages"] == 1
    assert page["links"] == {}


# --- archive -----------------------------------------------------------------------------------


def test_archive_run(org: Org) -> None:
    launched, kept = run(org), run(org)
    response = org.api.delete(org.path(f"/runs/{launched['id']}"))
    archived = ok(response)
    assert archived["id"] == launched["id"]
    assert archived["status"] == "archived"
    assert ISO_Z.match(archived["archived_at"]), archived["archived_at"]

    assert runs_listed(org) == [kept["id"]]
    assert runs_listed(org, archived="only") == [launched["id"]]
    assert sorted(runs_listed(org, archived="true")) == sorted([launched["id"], kept["id"]])
    assert runs_listed(org, status="archived") == [launched["id"]]
    assert ok(org.api.get(org.path(f"/runs/{launched['id']}")))["status"] == "archived"


def test_archive_run_archives_its_tasks(org: Org) -> None:
    launched = run(org)
    own_tasks = ids(tasks_of(org, launched["id"]))
    other_tasks = ids(tasks_of(org, run(org)["id"]))
    loose = one_off_task(org)["id"]
    ok(org.api.delete(org.path(f"/runs/{launched['id']}")))

    assert sorted(tasks_listed(org)) == sorted(other_tasks + [loose])
    assert sorted(tasks_listed(org, archived="only")) == sorted(own_tasks)
    for task_id in own_tasks:
        assert ISO_Z.match(ok(org.api.get(org.path(f"/tasks/{task_id}")))["archived_at"])
    # The archived run still shows its (archived) tasks.
    assert ids(ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))) == own_tasks


def test_archive_run_hides_its_files(org: Org) -> None:
    launched, _, files = run_with_files(org)
    ok(org.api.delete(org.path(f"/runs/{launched['id']}")))
    for asset_id in files:
        assert_not_found(org.api.get(org.path(f"/assets/{asset_id}")))
        assert stored_bytes(org, asset_id).is_file()


def test_archive_unknown_run_is_404(org: Org) -> None:
    assert_not_found(org.api.delete(org.path(f"/runs/{UNKNOWN_ID}")))


def test_archive_by_light_member_is_403(org: Org) -> None:
    launched = run(org)
    _, light = org.member("light")
    with light:
        response = light.delete(org.path(f"/runs/{launched['id']}"))
    assert response.status_code == 403
    assert response.json()["error"] is True
    assert runs_listed(org) == [launched["id"]]


def test_archive_by_standard_member_is_allowed(org: Org) -> None:
    launched = run(org)
    _, standard = org.member("standard")
    with standard:
        assert ok(standard.delete(org.path(f"/runs/{launched['id']}")))["status"] == "archived"


# --- activate ----------------------------------------------------------------------------------


def test_activate_restores_run_tasks_and_files(org: Org) -> None:
    launched, task_ids, files = run_with_files(org)
    ok(org.api.delete(org.path(f"/runs/{launched['id']}")))
    activated = ok(org.api.put(org.path(f"/runs/{launched['id']}/activate")))

    assert activated["id"] == launched["id"]
    assert activated["status"] == "active"
    assert activated["archived_at"] is None
    assert runs_listed(org) == [launched["id"]]
    assert runs_listed(org, archived="only") == []
    assert sorted(tasks_listed(org)) == sorted(task_ids)
    assert all(t["archived_at"] is None for t in tasks_of(org, launched["id"]))
    for asset_id in files:
        assert ok(org.api.get(org.path(f"/assets/{asset_id}")))[0]["id"] == asset_id


def test_activate_leaves_other_archived_runs_alone(org: Org) -> None:
    launched, other = run(org), run(org)
    ok(org.api.delete(org.path(f"/runs/{other['id']}")))
    ok(org.api.delete(org.path(f"/runs/{launched['id']}")))
    ok(org.api.put(org.path(f"/runs/{launched['id']}/activate")))
    assert runs_listed(org, archived="only") == [other["id"]]
    assert sorted(tasks_listed(org, archived="only")) == sorted(ids(tasks_of(org, other["id"])))


def test_activate_unknown_run_is_404(org: Org) -> None:
    assert_not_found(org.api.put(org.path(f"/runs/{UNKNOWN_ID}/activate")))


# --- permanent delete --------------------------------------------------------------------------


@pytest.mark.parametrize("archived_first", [False, True], ids=["active", "archived"])
def test_delete_run_takes_tasks_and_files(org: Org, archived_first: bool) -> None:
    launched, task_ids, files = run_with_files(org)
    if archived_first:
        ok(org.api.delete(org.path(f"/runs/{launched['id']}")))

    response = org.api.delete(org.path(f"/runs/{launched['id']}/delete"))
    assert response.status_code == 200
    assert response.content == b""

    assert_not_found(org.api.get(org.path(f"/runs/{launched['id']}")))
    for task_id in task_ids:
        assert_not_found(org.api.get(org.path(f"/tasks/{task_id}")))
    for asset_id in files:
        assert_not_found(org.api.get(org.path(f"/assets/{asset_id}")))
        assert not stored_bytes(org, asset_id).exists()
    assert runs_listed(org, archived="true") == []
    assert tasks_listed(org, archived="true") == []


def test_delete_run_leaves_other_runs_alone(org: Org) -> None:
    doomed, _, _ = run_with_files(org)
    kept, kept_tasks, kept_files = run_with_files(org)
    loose = one_off_task(org)["id"]
    assert org.api.delete(org.path(f"/runs/{doomed['id']}/delete")).status_code == 200
    assert runs_listed(org) == [kept["id"]]
    assert sorted(tasks_listed(org)) == sorted(kept_tasks + [loose])
    for asset_id in kept_files:
        assert metadata_status(org, asset_id) == 200
        assert stored_bytes(org, asset_id).is_file()


def test_delete_unknown_run_is_404(org: Org) -> None:
    assert_not_found(org.api.delete(org.path(f"/runs/{UNKNOWN_ID}/delete")))


@pytest.mark.parametrize("role", ["standard", "light"])
def test_delete_run_by_non_admin_is_403(org: Org, role: str) -> None:
    launched, task_ids, files = run_with_files(org)
    _, member = org.member(role)
    with member:
        response = member.delete(org.path(f"/runs/{launched['id']}/delete"))
    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"
    assert ok(org.api.get(org.path(f"/runs/{launched['id']}")))["status"] == "active"
    assert sorted(tasks_listed(org)) == sorted(task_ids)
    assert all(metadata_status(org, a) == 200 for a in files)


def test_run_list_totals_come_with_the_page_and_past_its_end(org: Org) -> None:
    template = checklist(org, steps=1)["id"]
    done, live, archived = (run(org, template) for _ in range(3))
    task = ok(org.api.get(org.path(f"/runs/{done['id']}/tasks")))[0]
    ok(org.api.post(org.path(f"/runs/{done['id']}/completed-tasks"), json={"task_id": task["id"]}))
    ok(org.api.delete(org.path(f"/runs/{archived['id']}")))
    for params, total in [
        ({}, 2),
        ({"status": "active"}, 1),
        ({"status": "complete"}, 1),
        ({"archived": "only"}, 1),
        ({"archived": "true"}, 3),
    ]:
        for page in (1, 4):
            answer = org.api.get(org.path("/runs"), params={**params, "per_page": 1, "page": page})
            assert answer.status_code == 200, answer.text
            assert answer.json()["meta"]["pagination"]["total"] == total, (params, page)
    assert live["id"] in {r["id"] for r in ok(org.api.get(org.path("/runs")))}
