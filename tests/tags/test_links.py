"""Tags on things: attach/detach, `with=tags` on templates, runs and tasks, tags given at
launch / task create / on steps, the list filters, and links going with what they tag."""

from __future__ import annotations

from typing import Any

import pytest

from checkrun.kit import events
from tests.conftest import Org
from tests.support.factories import checklist, db_count, ids, ok, one_off_task, run

UNKNOWN_ID = "0" * 32
LINKS = "/checklists/tags"


def tag(org: Org, title: str) -> dict[str, Any]:
    return ok(org.api.post(org.path("/tags"), json={"title": title, "color": "#123456"}), 201)


def attach(
    org: Org,
    subject_type: str,
    subject_id: str,
    tag_id: str,
    status: int = 201,
    tag_type: str = "private",
) -> dict[str, Any]:
    body = {
        "subject_id": subject_id,
        "subject_type": subject_type,
        "tag_id": tag_id,
        "tag_type": tag_type,
    }
    return ok(org.api.post(org.path(LINKS), json=body), status)


def included(org: Org, path: str) -> Any:
    return ok(org.api.get(org.path(path), params={"with": "tags"}))["tags"]


def test_attach_to_a_template_and_detach(org: Org, emitted: list[events.Event]) -> None:
    template, urgent = checklist(org, steps=1), tag(org, "Urgent")
    link = attach(org, "Checklist", template["id"], urgent["id"])
    assert isinstance(link["id"], int) and str(link["id"]).isdigit()
    assert {
        k: link[k] for k in ("tag_id", "tag_type", "subject_id", "subject_type", "title", "color")
    } == {
        "tag_id": urgent["id"],
        "tag_type": "private",
        "subject_id": template["id"],
        "subject_type": "Checklist",
        "title": "Urgent",
        "color": "#123456",
    }
    again = attach(org, "Checklist", template["id"], urgent["id"], status=200)
    assert again["id"] == link["id"]  # no duplicate
    assert included(org, f"/checklists/{template['id']}") == {"data": [link]}
    mine = [(e.type, e.verb, e.checklist_id) for e in emitted if e.org_id == org.id]
    assert mine.count(("Tag", "linked", template["id"])) == 1
    response = org.api.delete(org.path(f"{LINKS}/{link['id']}"))
    assert (response.status_code, response.content) == (204, b"")
    assert included(org, f"/checklists/{template['id']}") == {"data": []}
    assert ("Tag", "unlinked", template["id"]) in [
        (e.type, e.verb, e.checklist_id) for e in emitted if e.org_id == org.id
    ]
    assert org.api.delete(org.path(f"{LINKS}/{link['id']}")).status_code == 404


def test_attach_to_a_run(org: Org) -> None:
    launched, q3 = run(org), tag(org, "Q3")
    link = attach(org, "Run", launched["id"], q3["id"], tag_type="public")
    assert link["tag_type"] == "public"
    assert included(org, f"/runs/{launched['id']}") == {"data": [link]}
    listed = ok(org.api.get(org.path("/runs"), params={"with": "tags"}))
    assert listed[0]["tags"]["data"][0]["tag_id"] == q3["id"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"subject_type": "Task"}, "subject_type"),
        ({"tag_type": None}, "tag_type"),
        ({"tag_type": "shared"}, "tag_type"),
        ({"subject_id": None}, "subject_id"),
        ({"tag_id": UNKNOWN_ID}, "tag_id"),
        ({"subject_id": UNKNOWN_ID}, "subject_id"),
    ],
)
def test_attach_refusals(org: Org, change: dict[str, Any], field: str) -> None:
    body = {
        "subject_id": checklist(org, steps=0)["id"],
        "subject_type": "Checklist",
        "tag_id": tag(org, "T")["id"],
        "tag_type": "private",
        **change,
    }
    body = {k: v for k, v in body.items() if v is not None}
    response = org.api.post(org.path(LINKS), json=body)
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"]


def test_archived_or_foreign_subjects_are_not_found(org: Org) -> None:
    urgent = tag(org, "Urgent")
    archived = checklist(org, steps=0)
    assert org.api.delete(org.path(f"/checklists/{archived['id']}")).status_code == 200
    stopped = run(org)
    ok(org.api.delete(org.path(f"/runs/{stopped['id']}")))
    other = org.server.new_org()
    with org.server.client(other.token) as api:
        theirs = api.post(
            f"/organizations/{other.org_id}/checklists",
            json={"title": "Theirs", "type": "procedure"},
        ).json()["data"]
        their_tag = api.post(
            f"/organizations/{other.org_id}/tags", json={"title": "Theirs"}
        ).json()["data"]
    for subject_type, subject_id in (
        ("Checklist", archived["id"]),
        ("Run", stopped["id"]),
        ("Checklist", theirs["id"]),
        ("Run", archived["id"]),
    ):
        body = {
            "subject_id": subject_id,
            "subject_type": subject_type,
            "tag_id": urgent["id"],
            "tag_type": "private",
        }
        response = org.api.post(org.path(LINKS), json=body)
        assert response.status_code == 422
        assert response.json()["message"] == "Subject not found"
    mine = checklist(org, steps=0)
    body = {
        "subject_id": mine["id"],
        "subject_type": "Checklist",
        "tag_id": their_tag["id"],
        "tag_type": "private",
    }
    assert org.api.post(org.path(LINKS), json=body).status_code == 422


def test_detach_refusals(org: Org) -> None:
    link = attach(org, "Checklist", checklist(org, steps=0)["id"], tag(org, "T")["id"])
    for bad in ("abc", "-1", "99999999999999", "0"):
        assert org.api.delete(org.path(f"{LINKS}/{bad}")).status_code == 404
    other = org.server.new_org()
    with org.server.client(other.token) as api:
        response = api.delete(f"/organizations/{other.org_id}{LINKS}/{link['id']}")
        assert response.status_code == 404
    _, light = org.member("light")
    assert light.delete(org.path(f"{LINKS}/{link['id']}")).status_code == 403
    assert ok(org.api.get(org.path(f"/tags/{link['tag_id']}")))["id"] == link["tag_id"]


def test_template_routes_still_answer_beside_the_link_routes(org: Org) -> None:
    template = checklist(org, steps=1)
    assert ok(org.api.get(org.path(f"/checklists/{template['id']}")))["id"] == template["id"]
    assert org.api.get(org.path("/checklists/tags")).status_code == 404


def test_tags_at_launch(org: Org) -> None:
    first, second = tag(org, "One"), tag(org, "Two")
    launched = run(org, tags=[first["id"], second["id"], first["id"]])
    assert [t["tag_id"] for t in included(org, f"/runs/{launched['id']}")["data"]] == [
        first["id"],
        second["id"],
    ]
    response = org.api.post(
        org.path("/runs"),
        json={"checklist_id": checklist(org)["id"], "tags": [first["id"], UNKNOWN_ID]},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"tags.1": ["The selected tags.1 is invalid."]}


def test_tags_on_a_one_off_task(org: Org) -> None:
    first = tag(org, "Call")
    task = one_off_task(org, tags=[first["id"]])
    tags = included(org, f"/tasks/{task['id']}")["data"]
    assert [(t["tag_id"], t["subject_type"]) for t in tags] == [(first["id"], "Task")]
    response = org.api.post(
        org.path("/tasks"),
        json={
            "title": "T",
            "task_type": "task",
            "owners": {"users": [org.admin_id]},
            "deadline": "2030-01-01T12:00:00Z",
            "tags": [UNKNOWN_ID],
        },
    )
    assert response.status_code == 422 and "tags.0" in response.json()["errors"]


def test_step_tags_go_on_the_launched_tasks(org: Org) -> None:
    first, gone = tag(org, "Review"), tag(org, "Gone")
    template = checklist(org, steps=0)
    step = ok(
        org.api.post(
            org.path(f"/checklists/{template['id']}/steps"),
            json={"title": "Check", "tags": [first["id"], gone["id"]]},
        ),
        201,
    )
    assert step["tags"] == [first["id"], gone["id"]]
    ok(org.api.post(org.path(f"/checklists/{template['id']}/steps"), json={"title": "Plain"}), 201)
    assert org.api.delete(org.path(f"/tags/{gone['id']}")).status_code == 204
    launched = run(org, template["id"])
    tasks = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks"), params={"with": "tags"}))
    assert [[t["tag_id"] for t in task["tags"]["data"]] for task in tasks] == [[first["id"]], []]


def test_run_list_filters(org: Org) -> None:
    urgent, later = tag(org, "Urgent"), tag(org, "Later")
    template = checklist(org, steps=1)
    a, b, plain = (run(org, template["id"], name=n) for n in ("a", "b", "plain"))
    attach(org, "Run", a["id"], urgent["id"])
    attach(org, "Run", b["id"], later["id"])

    def names(**params: Any) -> list[str]:
        listed = ok(org.api.get(org.path("/runs"), params={"sort": "name", **params}))
        return [r["name"] for r in listed]

    assert names(tag=urgent["id"]) == ["a"]
    assert names(tag="urgent") == ["a"]  # a title works too
    assert names(tag_ids=f"{urgent['id']},{later['id']}") == ["a", "b"]
    assert names(untagged="true") == ["plain"]
    assert names(tag=UNKNOWN_ID) == []
    assert plain["id"] not in ids(ok(org.api.get(org.path("/runs"), params={"tag": "Later"})))


def test_task_and_template_list_filters(org: Org) -> None:
    urgent = tag(org, "Urgent")
    tagged_task, plain_task = one_off_task(org, tags=[urgent["id"]]), one_off_task(org)
    launched = run(org, checklist(org, steps=2)["id"])
    attach(org, "Run", launched["id"], urgent["id"])
    found = ids(ok(org.api.get(org.path("/tasks"), params={"tag": "URGENT", "per_page": 50})))
    run_tasks = ids(ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks"))))
    assert sorted(found) == sorted([tagged_task["id"], *run_tasks])
    assert plain_task["id"] not in found
    assert ok(org.api.get(org.path("/tasks"), params={"tag": "nothing"})) == []
    template, other = checklist(org, steps=0), checklist(org, steps=0)
    attach(org, "Checklist", template["id"], urgent["id"])
    assert ids(ok(org.api.get(org.path("/checklists"), params={"tag": urgent["id"]}))) == [
        template["id"]
    ]
    assert ids(ok(org.api.get(org.path("/checklists"), params={"tag": "Urgent"}))) == [
        template["id"]
    ]
    assert other["id"] not in ids(
        ok(org.api.get(org.path("/checklists"), params={"tag": "Urgent"}))
    )


def test_template_list_includes_each_ones_tags(org: Org) -> None:
    urgent = tag(org, "Urgent")
    tagged, plain = checklist(org, steps=0), checklist(org, steps=0)
    link = attach(org, "Checklist", tagged["id"], urgent["id"])
    listed = {
        t["id"]: t["tags"]
        for t in ok(org.api.get(org.path("/checklists"), params={"with": "tags"}))
    }
    assert listed == {tagged["id"]: {"data": [link]}, plain["id"]: {"data": []}}


def test_links_go_with_a_purged_run_and_template(org: Org) -> None:
    urgent = tag(org, "Urgent")
    template = checklist(org, steps=0)
    launched = run(org, checklist(org, steps=1)["id"], tags=[urgent["id"]])
    attach(org, "Checklist", template["id"], urgent["id"])
    task = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))[0]
    org.server.execute(
        "INSERT INTO tag_associations (org_id, tag_id, tag_type, subject_type, subject_id, "
        f"task_id, created_at) VALUES ('{org.id}', '{urgent['id']}', 'private', 'Task', "
        f"'{task['id']}', '{task['id']}', CURRENT_TIMESTAMP)"
    )
    assert db_count(org, "tag_associations", "tag_id = :t", t=urgent["id"]) == 3
    assert org.api.delete(org.path(f"/runs/{launched['id']}/delete")).status_code == 200
    assert db_count(org, "tag_associations", "tag_id = :t", t=urgent["id"]) == 1
    assert org.api.delete(org.path(f"/checklists/{template['id']}")).status_code == 200
    assert org.api.delete(org.path(f"/checklists/{template['id']}/delete")).status_code == 200
    assert db_count(org, "tag_associations", "tag_id = :t", t=urgent["id"]) == 0
    one_off = one_off_task(org, tags=[urgent["id"]])
    assert org.api.delete(org.path(f"/tasks/{one_off['id']}/delete")).status_code == 204
    assert db_count(org, "tag_associations", "tag_id = :t", t=urgent["id"]) == 0
