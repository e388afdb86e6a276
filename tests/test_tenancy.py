"""No leak across organizations, for every kind of resource: another organization's ids under
your own organization's path are 404 (nothing read, nothing changed), and their path is 403."""

from __future__ import annotations

from typing import Any

from tests.conftest import Org, new_org
from tests.support.factories import checklist, folder, group, ok, one_off_task, run, tag


def _theirs(org: Org) -> dict[str, Any]:
    """Every kind of resource, made in `org`."""
    template = checklist(org, steps=1)
    launched = run(org, template["id"])
    task = one_off_task(org)
    comment = ok(
        org.api.post(org.path(f"/tasks/{task['id']}/comment"), json={"content": "hello"}), 201
    )
    member, _ = org.member("standard")
    ok(org.api.post(org.path("/guests"), json={"email": "their-guest@example.com"}), 201)
    watcher = ok(
        org.api.post(
            org.path(f"/users/{org.admin_id}/add-watcher"),
            json={
                "object_type": "organization",
                "object_id": org.id,
                "notification_type": "webhook",
                "frequency": "electric",
                "webhook": "http://127.0.0.1:9/hook",
            },
        ),
        201,
    )
    return {
        "template": template["id"],
        "run": launched["id"],
        "task": task["id"],
        "comment": comment["id"],
        "member": member,
        "group": group(org),
        "tag": tag(org),
        "folder": folder(org),
        "watcher": watcher["id"],
    }


def test_their_ids_under_my_path_are_not_found(org: Org) -> None:
    with new_org(org.server) as other:
        ids = _theirs(other)
    t, r, k = ids["template"], ids["run"], ids["task"]
    probes = [
        ("GET", f"/checklists/{t}"),
        ("PUT", f"/checklists/{t}"),
        ("DELETE", f"/checklists/{t}"),
        ("GET", f"/runs/{r}"),
        ("PUT", f"/runs/{r}"),
        ("DELETE", f"/runs/{r}"),
        ("GET", f"/runs/{r}/tasks"),
        ("GET", f"/tasks/{k}"),
        ("PUT", f"/tasks/{k}"),
        ("DELETE", f"/tasks/{k}"),
        ("POST", f"/tasks/{k}/comment"),
        ("PUT", f"/tasks/{k}/comment/{ids['comment']}"),
        ("DELETE", f"/tasks/{k}/comment/{ids['comment']}"),
        ("POST", f"/runs/{r}/problem"),
        ("GET", f"/users/{ids['member']}"),
        ("PUT", f"/users/{ids['member']}/role"),
        ("DELETE", f"/users/{ids['member']}"),
        ("GET", f"/users/{ids['member']}/tasks"),
        ("GET", "/guests/their-guest@example.com"),
        ("PUT", "/guests/their-guest@example.com"),
        ("DELETE", "/guests/their-guest@example.com/disable"),
        ("GET", f"/groups/{ids['group']}"),
        ("PUT", f"/groups/{ids['group']}"),
        ("GET", f"/tags/{ids['tag']}"),
        ("PUT", f"/tags/{ids['tag']}"),
        ("GET", f"/folders/{ids['folder']}"),
        ("PUT", f"/folders/{ids['folder']}"),
        ("DELETE", f"/folders/{ids['folder']}"),
        ("DELETE", f"/remove-watcher/{ids['watcher']}"),
    ]
    bodies = {
        "PUT": {
            "title": "x",
            "name": "x",
            "role": "admin",
            "content": "x",
            "associated_members": [],
        },
        "POST": {"content": "x"},
    }
    answered = {
        f"{method} {path}": org.api.request(
            method, org.path(path), json=bodies.get(method)
        ).status_code
        for method, path in probes
    }
    assert {probe: status for probe, status in answered.items() if status != 404} == {}
    # Links into their resources are refused too, and nothing of theirs shows up here.
    attach = org.api.post(
        org.path("/checklists/tags"),
        json={"subject_id": r, "subject_type": "Run", "tag_id": ids["tag"], "tag_type": "private"},
    )
    assert attach.status_code == 422
    filed = org.api.post(
        org.path("/folders/add-object"),
        json={"folder_id": ids["folder"], "subject_id": r, "subject_type": "Run"},
    )
    assert filed.status_code == 422
    feed = ok(org.api.get(org.path("/activity-feeds"), params={"per_page": 100}))
    assert {e.get("run_id") for e in feed} & {r} == set()
    found = org.api.get(org.path("/search"), params={"search": "Onboarding"}).json()
    assert [i["id"] for kind in found.values() for i in kind["data"]] == []


def test_their_path_is_forbidden(org: Org) -> None:
    with new_org(org.server) as other:
        for path in (
            "/users",
            "/guests",
            "/groups",
            "/tags",
            "/folders",
            "/activity-feeds",
            "/watchers",
            "/search?search=a",
        ):
            assert org.api.get(f"/organizations/{other.id}{path}").status_code == 403, path
