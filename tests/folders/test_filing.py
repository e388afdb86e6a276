"""Filing: templates through PUT /checklists/{id} `folder_id`, runs and tasks through
add-object / folders-objects, launch `folders`, the `folder` filters and the includes."""

from __future__ import annotations

from typing import Any

import pytest

from checkrun.kit import events
from tests.conftest import Org
from tests.support.factories import checklist, db_count, ids, ok, one_off_task, run

UNKNOWN_ID = "0" * 32


def folder(org: Org, name: str, **fields: Any) -> dict[str, Any]:
    return ok(org.api.post(org.path("/folders"), json={"name": name, **fields}), 201)


def add(
    org: Org, folder_id: str, subject_type: str, subject_id: str, status: int = 201
) -> dict[str, Any]:
    body = {"folder_id": folder_id, "subject_type": subject_type, "subject_id": subject_id}
    return ok(org.api.post(org.path("/folders/add-object"), json=body), status)


def test_file_a_template_by_put(org: Org) -> None:
    templates = folder(org, "Templates")
    template, other = checklist(org, steps=0), checklist(org, steps=0)
    filed = ok(
        org.api.put(
            org.path(f"/checklists/{template['id']}"),
            json={"title": "Onboarding", "folder_id": templates["id"]},
        )
    )
    assert filed["folder_id"] == templates["id"]
    read = ok(org.api.get(org.path(f"/checklists/{template['id']}"), params={"with": "folder"}))
    assert read["folder"]["data"]["id"] == templates["id"]
    assert read["folder"]["data"]["name"] == "Templates"
    listed = ok(
        org.api.get(org.path("/checklists"), params={"folder": templates["id"], "with": "folder"})
    )
    assert ids(listed) == [template["id"]]
    assert ok(org.api.get(org.path(f"/checklists/{other['id']}"), params={"with": "folder"}))[
        "folder"
    ] == {"data": None}
    assert ok(org.api.get(org.path(f"/folders/{templates['id']}")))["total"] == 1
    # Keeping the folder when a PUT doesn't name it; null takes it out.
    kept = ok(org.api.put(org.path(f"/checklists/{template['id']}"), json={"title": "T"}))
    assert kept["folder_id"] == templates["id"]
    out = ok(
        org.api.put(
            org.path(f"/checklists/{template['id']}"), json={"title": "T", "folder_id": None}
        )
    )
    assert out["folder_id"] is None


def test_template_folder_refusals(org: Org) -> None:
    runs = folder(org, "Runs", folder_type="run")
    template = checklist(org, steps=0)
    for folder_id in (UNKNOWN_ID, runs["id"]):
        response = org.api.put(
            org.path(f"/checklists/{template['id']}"), json={"title": "T", "folder_id": folder_id}
        )
        assert response.status_code == 422 and "folder_id" in response.json()["errors"]
        created = org.api.post(
            org.path("/checklists"),
            json={"title": "T", "type": "procedure", "folder_id": folder_id},
        )
        assert created.status_code == 422 and "folder_id" in created.json()["errors"]
    made = checklist(org, steps=0, folder_id=folder(org, "Ok")["id"])
    assert made["folder_id"] is not None


def test_file_a_run_and_unfile_it(org: Org, emitted: list[events.Event]) -> None:
    runs = folder(org, "2026", folder_type="run")
    launched, other = run(org), run(org)
    relation = add(org, runs["id"], "Run", launched["id"])
    assert isinstance(relation["id"], int)
    assert {k: relation[k] for k in ("folder_id", "subject_type", "subject_id")} == {
        "folder_id": runs["id"],
        "subject_type": "Run",
        "subject_id": launched["id"],
    }
    assert add(org, runs["id"], "Run", launched["id"], status=200)["id"] == relation["id"]
    assert ids(ok(org.api.get(org.path("/runs"), params={"folder": runs["id"]}))) == [
        launched["id"]
    ]
    read = ok(org.api.get(org.path(f"/runs/{launched['id']}"), params={"with": "folders"}))
    entry = read["folders"]["data"][0]
    assert (entry["id"], entry["name"], entry["folder_object_id"]) == (
        runs["id"],
        "2026",
        relation["id"],
    )
    assert ok(org.api.get(org.path(f"/runs/{other['id']}"), params={"with": "folders"}))[
        "folders"
    ] == {"data": []}
    assert ok(org.api.get(org.path(f"/folders/{runs['id']}")))["total"] == 1
    assert ("Folder", "linked", launched["id"]) in [
        (e.type, e.verb, e.run_id) for e in emitted if e.org_id == org.id
    ]
    response = org.api.delete(org.path(f"/folders-objects/{relation['id']}"))
    assert (response.status_code, response.content) == (204, b"")
    assert ok(org.api.get(org.path("/runs"), params={"folder": runs["id"]})) == []
    assert org.api.delete(org.path(f"/folders-objects/{relation['id']}")).status_code == 404


def test_file_a_task(org: Org) -> None:
    runs = folder(org, "Work", folder_type="run")
    task, other = one_off_task(org), one_off_task(org)
    relation = add(org, runs["id"], "Task", task["id"])
    assert ids(ok(org.api.get(org.path("/tasks"), params={"folder": runs["id"]}))) == [task["id"]]
    read = ok(org.api.get(org.path(f"/tasks/{task['id']}"), params={"with": "folders"}))
    assert read["folders"]["data"][0]["folder_object_id"] == relation["id"]
    # A filed run brings its tasks into the task filter.
    launched = run(org, checklist(org, steps=2)["id"])
    add(org, runs["id"], "Run", launched["id"])
    found = ids(ok(org.api.get(org.path("/tasks"), params={"folder": runs["id"], "per_page": 50})))
    assert len(found) == 3 and task["id"] in found and other["id"] not in found


@pytest.mark.parametrize(
    "change, field",
    [
        ({"subject_type": "Checklist"}, "subject_type"),
        ({"folder_id": UNKNOWN_ID}, "folder_id"),
        ({"subject_id": UNKNOWN_ID}, "subject_id"),
        ({"folder_id": None}, "folder_id"),
    ],
)
def test_add_object_refusals(org: Org, change: dict[str, Any], field: str) -> None:
    body = {
        "folder_id": folder(org, "R", folder_type="run")["id"],
        "subject_type": "Run",
        "subject_id": run(org)["id"],
        **change,
    }
    body = {k: v for k, v in body.items() if v is not None}
    response = org.api.post(org.path("/folders/add-object"), json=body)
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"]


def test_add_object_needs_a_run_folder_and_a_live_subject(org: Org) -> None:
    templates = folder(org, "Templates")
    runs = folder(org, "Runs", folder_type="run")
    launched = run(org)
    response = org.api.post(
        org.path("/folders/add-object"),
        json={"folder_id": templates["id"], "subject_type": "Run", "subject_id": launched["id"]},
    )
    assert response.status_code == 422 and "folder_id" in response.json()["errors"]
    ok(org.api.delete(org.path(f"/runs/{launched['id']}")))
    response = org.api.post(
        org.path("/folders/add-object"),
        json={"folder_id": runs["id"], "subject_type": "Run", "subject_id": launched["id"]},
    )
    assert response.status_code == 422 and response.json()["message"] == "Subject not found"
    other = org.server.new_org()
    with org.server.client(other.token) as api:
        response = api.post(
            f"/organizations/{other.org_id}/folders/add-object",
            json={"folder_id": runs["id"], "subject_type": "Run", "subject_id": run(org)["id"]},
        )
        assert response.status_code == 422


def test_remove_object_refusals(org: Org) -> None:
    runs = folder(org, "Runs", folder_type="run")
    relation = add(org, runs["id"], "Run", run(org)["id"])
    for bad in ("abc", "999999999", "99999999999999"):
        assert org.api.delete(org.path(f"/folders-objects/{bad}")).status_code == 404
    other = org.server.new_org()
    with org.server.client(other.token) as api:
        assert (
            api.delete(
                f"/organizations/{other.org_id}/folders-objects/{relation['id']}"
            ).status_code
            == 404
        )
    _, light = org.member("light")
    assert light.delete(org.path(f"/folders-objects/{relation['id']}")).status_code == 403


def test_launch_files_the_run(org: Org) -> None:
    first, second = folder(org, "A", folder_type="run"), folder(org, "B", folder_type="run")
    launched = run(org, folders=[first["id"], second["id"]])
    read = ok(org.api.get(org.path(f"/runs/{launched['id']}"), params={"with": "folders"}))
    assert [f["id"] for f in read["folders"]["data"]] == [first["id"], second["id"]]
    templates = folder(org, "Templates")
    response = org.api.post(
        org.path("/runs"),
        json={"checklist_id": checklist(org)["id"], "folders": [first["id"], templates["id"]]},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"folders.1": ["The selected folders.1 is invalid."]}


def test_relations_go_with_the_folder_and_with_a_purged_run(org: Org) -> None:
    runs = folder(org, "Runs", folder_type="run")
    kept, purged = run(org), run(org)
    add(org, runs["id"], "Run", kept["id"])
    add(org, runs["id"], "Run", purged["id"])
    task = one_off_task(org)
    add(org, runs["id"], "Task", task["id"])
    assert db_count(org, "folder_objects", "folder_id = :f", f=runs["id"]) == 3
    assert org.api.delete(org.path(f"/runs/{purged['id']}/delete")).status_code == 200
    assert org.api.delete(org.path(f"/tasks/{task['id']}/delete")).status_code == 204
    assert db_count(org, "folder_objects", "folder_id = :f", f=runs["id"]) == 1
    assert org.api.delete(org.path(f"/folders/{runs['id']}")).status_code == 204
    assert db_count(org, "folder_objects", "folder_id = :f", f=runs["id"]) == 0
    assert ok(org.api.get(org.path(f"/runs/{kept['id']}")))["id"] == kept["id"]
