"""PUT /runs/{id}/update-tasks: several tasks of one process in one request, all or none."""

from __future__ import annotations

from typing import Any

from tests.conftest import LiveServer, Org, new_org
from tests.support.factories import checklist, ok, run


def launched_with_tasks(org: Org) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    launched = run(org, checklist(org, steps=3)["id"])
    return launched, ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))


def update(org: Org, run_id: str, body: Any) -> Any:
    return org.api.put(org.path(f"/runs/{run_id}/update-tasks"), json=body)


def test_tasks_are_changed_as_the_task_put_changes_them(org: Org) -> None:
    member_id, _ = org.member("standard")
    launched, (first, second, third) = launched_with_tasks(org)
    body = {
        "tasks": [
            {"id": first["id"], "deadline": "2031-01-02T10:00:00Z", "title": "Renamed"},
            {"task_id": second["id"], "owners": {"users": [member_id]}},
        ]
    }
    answered = ok(update(org, launched["id"], body))
    assert [t["id"] for t in answered] == [first["id"], second["id"]]
    assert answered[0]["title"] == "Renamed"
    assert answered[0]["deadline"] == "2031-01-02T10:00:00Z"
    assert answered[1]["owners"]["users"] == [member_id]
    # The object form, keyed by task id.
    keyed = ok(update(org, launched["id"], {"tasks": {third["id"]: {"summary": "Notes"}}}))
    assert keyed[0]["summary"] == "Notes"
    again = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks/{first['id']}")))
    assert again["title"] == "Renamed"


def test_one_refusal_undoes_the_whole_request(org: Org) -> None:
    launched, (first, second, _) = launched_with_tasks(org)
    ok(
        org.api.post(
            org.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": second["id"]}
        )
    )
    body = {"tasks": [{"id": first["id"], "title": "Changed"}, {"id": second["id"], "title": "x"}]}
    refused = update(org, launched["id"], body)
    assert refused.status_code == 422
    assert list(refused.json()["errors"]) == [f"tasks.{second['id']}.status"]
    unchanged = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks/{first['id']}")))
    assert unchanged["title"] == first["title"]


def test_tasks_of_another_process_and_bad_bodies_are_422(org: Org, server: LiveServer) -> None:
    launched, (first, _, _) = launched_with_tasks(org)
    _, (foreign, _, _) = launched_with_tasks(org)
    refused = update(org, launched["id"], {"tasks": [{"id": foreign["id"], "title": "x"}]})
    assert refused.status_code == 422
    assert list(refused.json()["errors"]) == [f"tasks.{foreign['id']}"]
    assert (
        ok(org.api.get(org.path(f"/runs/{foreign['run_id']}/tasks/{foreign['id']}")))["title"]
        == foreign["title"]
    )
    bodies: list[dict[str, Any]] = [
        {},
        {"tasks": []},
        {"tasks": {}},
        {"tasks": "x"},
        {"tasks": [{"title": "x"}]},
    ]
    for body in bodies:
        assert update(org, launched["id"], body).status_code == 422, body
    too_many = {"tasks": [{"id": first["id"], "title": "x"}] * 501}
    assert update(org, launched["id"], too_many).status_code == 422
    bad_field = update(org, launched["id"], {"tasks": [{"id": first["id"], "title": ""}]})
    assert bad_field.status_code == 422
    with new_org(server) as stranger:
        body = {"tasks": [{"id": first["id"], "title": "x"}]}
        assert update(stranger, launched["id"], body).status_code == 404


def test_light_members_change_only_what_they_may(org: Org) -> None:
    light_id, light = org.member("light")
    launched, (first, second, _) = launched_with_tasks(org)
    path = org.path(f"/runs/{launched['id']}/tasks/{first['id']}")
    ok(org.api.put(path, json={"owners": {"users": [light_id]}}))
    url = org.path(f"/runs/{launched['id']}/update-tasks")
    with light:
        body = {"tasks": [{"id": first["id"], "title": "Mine now"}]}
        assert light.put(url, json=body).status_code == 403
        other = {"tasks": [{"id": second["id"], "summary": "x"}]}
        assert light.put(url, json=other).status_code == 403
        # What a light member may do on a task of theirs: fill in its form (none here).
        assert light.put(url, json={"tasks": [{"id": first["id"]}]}).status_code == 200
