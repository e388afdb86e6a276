"""Folders over HTTP: create (types, parents), list (type, search, order, children, no
pagination), read, update (rename, move, no cycles), delete (contents moved out)."""

from __future__ import annotations

from typing import Any

import pytest

from checkrun.kit import events
from tests.conftest import Org
from tests.support.factories import checklist, db_count, ok

NOT_FOUND = {"error": True, "message": "Resource not found", "code": "RESOURCE_NOT_FOUND"}
UNKNOWN_ID = "0" * 32


def folder(org: Org, name: str, **fields: Any) -> dict[str, Any]:
    return ok(org.api.post(org.path("/folders"), json={"name": name, **fields}), 201)


def names(org: Org, **params: Any) -> list[str]:
    return [f["name"] for f in ok(org.api.get(org.path("/folders"), params=params))]


def test_create_and_read(org: Org, emitted: list[events.Event]) -> None:
    made = folder(org, "  Clients ")
    assert len(made["id"]) == 32
    assert {
        k: made[k] for k in ("name", "parent_id", "folder_type", "position", "total", "created_by")
    } == {
        "name": "Clients",
        "parent_id": None,
        "folder_type": "checklist",
        "position": 1,
        "total": 0,
        "created_by": org.admin_id,
    }
    assert ok(org.api.get(org.path(f"/folders/{made['id']}"))) == made
    assert folder(org, "Second")["position"] == 2
    runs = folder(org, "2026", folder_type="run")
    assert (runs["folder_type"], runs["position"]) == ("run", 1)
    child = folder(org, "Nested", parent_id=runs["id"])
    assert (child["folder_type"], child["parent_id"], child["position"]) == ("run", runs["id"], 1)
    assert [(e.type, e.verb) for e in emitted if e.org_id == org.id].count(
        ("Folder", "created")
    ) == 4


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "name"),
        ({"name": " "}, "name"),
        ({"name": "x" * 33}, "name"),
        ({"name": "A", "folder_type": "task"}, "folder_type"),
        ({"name": "A", "parent_id": UNKNOWN_ID}, "parent_id"),
        ({"name": "A", "position": 0}, "position"),
        ({"name": ["A"]}, "name"),
    ],
)
def test_create_refusals(org: Org, body: dict[str, Any], field: str) -> None:
    response = org.api.post(org.path("/folders"), json=body)
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"]


def test_parent_must_be_of_the_same_type_and_org(org: Org) -> None:
    templates = folder(org, "Templates")
    response = org.api.post(
        org.path("/folders"),
        json={"name": "Runs", "folder_type": "run", "parent_id": templates["id"]},
    )
    assert response.status_code == 422 and "parent_id" in response.json()["errors"]
    other = org.server.new_org()
    with org.server.client(other.token) as api:
        response = api.post(
            f"/organizations/{other.org_id}/folders",
            json={"name": "Theirs", "parent_id": templates["id"]},
        )
        assert response.status_code == 422
        assert (
            api.get(f"/organizations/{other.org_id}/folders/{templates['id']}").status_code == 404
        )


def test_list_filters_orders_and_pages(org: Org) -> None:
    for name in ("Beta", "Alpha", "Gamma"):
        folder(org, name)
    folder(org, "Runs", folder_type="run")
    assert names(org) == ["Beta", "Runs", "Alpha", "Gamma"]  # position, then name
    assert names(org, folder_type="checklist") == ["Beta", "Alpha", "Gamma"]  # by position
    assert names(org, folder_type="run") == ["Runs"]
    assert names(org, folder_type="checklist", sort="name") == ["Alpha", "Beta", "Gamma"]
    assert names(org, folder_type="checklist", sort="-name") == ["Gamma", "Beta", "Alpha"]
    assert names(org, q="AMM") == ["Gamma"]
    assert sorted(names(org, folder_type="None")) == ["Alpha", "Beta", "Gamma", "Runs"]
    bad = org.api.get(org.path("/folders"), params={"folder_type": "tasks"})
    assert bad.status_code == 422 and "folder_type" in bad.json()["errors"]
    paged = org.api.get(org.path("/folders"), params={"per_page": 2}).json()
    assert len(paged["data"]) == 2 and paged["meta"]["pagination"]["total_pages"] == 2


def test_without_pagination_every_folder_with_children(org: Org) -> None:
    top = folder(org, "Top")
    middle = folder(org, "Middle", parent_id=top["id"])
    folder(org, "Bottom", parent_id=middle["id"])
    for i in range(11):
        folder(org, f"F{i}")
    body = org.api.get(
        org.path("/folders"),
        params={
            "pagination": "false",
            "with": "children",
            "sort": "position",
            "folder_type": "checklist",
        },
    ).json()
    assert set(body) == {"data"}
    assert len(body["data"]) == 14
    by_name = {f["name"]: f for f in body["data"]}
    tree = by_name["Top"]["children"]["data"]
    assert [c["name"] for c in tree] == ["Middle"]
    assert [c["name"] for c in tree[0]["children"]["data"]] == ["Bottom"]
    assert by_name["F0"]["children"] == {"data": []}
    one = ok(org.api.get(org.path(f"/folders/{top['id']}"), params={"with": "children"}))
    assert one["children"]["data"][0]["id"] == middle["id"]
    assert "children" not in ok(org.api.get(org.path(f"/folders/{top['id']}")))


def test_update_renames_and_moves(org: Org, emitted: list[events.Event]) -> None:
    a, b = folder(org, "A"), folder(org, "B")
    renamed = ok(org.api.put(org.path(f"/folders/{a['id']}"), json={"name": "Aa"}))
    assert (renamed["name"], renamed["parent_id"]) == ("Aa", None)
    moved = ok(org.api.put(org.path(f"/folders/{a['id']}"), json={"parent_id": b["id"]}))
    assert (moved["name"], moved["parent_id"]) == ("Aa", b["id"])
    kept = ok(org.api.put(org.path(f"/folders/{a['id']}"), json={"name": "A", "position": 7}))
    assert (kept["parent_id"], kept["position"]) == (b["id"], 7)
    top = ok(org.api.put(org.path(f"/folders/{a['id']}"), json={"parent_id": None}))
    assert top["parent_id"] is None
    assert ("Folder", "updated", a["id"]) in [
        (e.type, e.verb, e.entity_id) for e in emitted if e.org_id == org.id
    ]


def test_update_refusals(org: Org) -> None:
    top = folder(org, "Top")
    child = folder(org, "Child", parent_id=top["id"])
    grandchild = folder(org, "Grandchild", parent_id=child["id"])
    runs = folder(org, "Runs", folder_type="run")
    path = org.path(f"/folders/{top['id']}")
    for parent in (top["id"], grandchild["id"], runs["id"], UNKNOWN_ID):
        response = org.api.put(path, json={"parent_id": parent})
        assert response.status_code == 422 and "parent_id" in response.json()["errors"]
    response = org.api.put(path, json={"folder_type": "run"})
    assert response.status_code == 422 and "folder_type" in response.json()["errors"]
    assert ok(org.api.put(path, json={"folder_type": "checklist"}))["folder_type"] == "checklist"
    assert org.api.put(path, json={"name": "y" * 33}).status_code == 422
    missing = org.api.put(org.path(f"/folders/{UNKNOWN_ID}"), json={"name": "X"})
    assert (missing.status_code, missing.json()) == (404, NOT_FOUND)


def test_delete_moves_contents_out(org: Org, emitted: list[events.Event]) -> None:
    top = folder(org, "Top")
    doomed = folder(org, "Doomed", parent_id=top["id"])
    child = folder(org, "Child", parent_id=doomed["id"])
    template = checklist(org, steps=0, folder_id=doomed["id"])
    assert ok(org.api.get(org.path(f"/folders/{doomed['id']}")))["total"] == 1
    response = org.api.delete(org.path(f"/folders/{doomed['id']}"))
    assert (response.status_code, response.content) == (204, b"")
    assert ("Folder", "deleted", doomed["id"]) in [
        (e.type, e.verb, e.entity_id) for e in emitted if e.org_id == org.id
    ]
    assert org.api.get(org.path(f"/folders/{doomed['id']}")).status_code == 404
    assert ok(org.api.get(org.path(f"/folders/{child['id']}")))["parent_id"] == top["id"]
    read = ok(org.api.get(org.path(f"/checklists/{template['id']}")))
    assert read["folder_id"] is None
    assert db_count(org, "checklists", "id = :c", c=template["id"]) == 1
    assert org.api.delete(org.path(f"/folders/{doomed['id']}")).status_code == 404


def test_light_members_read_but_do_not_change(org: Org) -> None:
    made = folder(org, "Shared")
    _, light = org.member("light")
    assert light.get(org.path(f"/folders/{made['id']}")).status_code == 200
    assert light.post(org.path("/folders"), json={"name": "Mine"}).status_code == 403
    assert light.put(org.path(f"/folders/{made['id']}"), json={"name": "X"}).status_code == 403
    assert light.delete(org.path(f"/folders/{made['id']}")).status_code == 403
