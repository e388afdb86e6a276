"""Tags over HTTP: create, list (auto-generated, search, sort, statistics), read, update,
hard delete, and their refusals."""

from __future__ import annotations

from typing import Any

import pytest

from checkrun.kit import events
from tests.conftest import Org
from tests.support.factories import checklist, db_count, ok, run

NOT_FOUND = {"error": True, "message": "Resource not found", "code": "RESOURCE_NOT_FOUND"}
UNKNOWN_ID = "0" * 32


def tag(org: Org, title: str, **fields: Any) -> dict[str, Any]:
    return ok(org.api.post(org.path("/tags"), json={"title": title, **fields}), 201)


def titles(org: Org, **params: Any) -> list[str]:
    return [t["title"] for t in ok(org.api.get(org.path("/tags"), params=params))]


def of_org(org: Org, seen: list[events.Event]) -> list[tuple[str, str, str]]:
    return [(e.type, e.verb, e.entity_id) for e in seen if e.org_id == org.id]


def test_create_reads_back(org: Org, emitted: list[events.Event]) -> None:
    made = tag(org, "  Urgent ", color="#FF0000")
    assert len(made["id"]) == 32 and made["id"] == made["id"].lower()
    assert {
        k: made[k] for k in ("title", "color", "auto_generated", "type", "deleted_at", "created_by")
    } == {
        "title": "Urgent",
        "color": "#FF0000",
        "auto_generated": False,
        "type": "private",
        "deleted_at": None,
        "created_by": org.admin_id,
    }
    assert made["created_at"].endswith("Z")
    assert ok(org.api.get(org.path(f"/tags/{made['id']}"))) == made
    assert tag(org, "Plain")["color"] is None
    assert of_org(org, emitted)[0] == ("Tag", "created", made["id"])


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 31}, "title"),
        ({"title": 5}, "title"),
        ({"title": "Ok", "color": "red"}, "color"),
        ({"title": "Ok", "color": "#12345"}, "color"),
        ({"title": "Ok", "color": "#1234567"}, "color"),
        ({"title": "Ok", "color": "#GGGGGG"}, "color"),
    ],
)
def test_create_refusals(org: Org, body: dict[str, Any], field: str) -> None:
    response = org.api.post(org.path("/tags"), json=body)
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"]


def test_title_is_unique_whatever_the_case(org: Org) -> None:
    first = tag(org, "Urgent")
    response = org.api.post(org.path("/tags"), json={"title": "uRGENT"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"title": ["The title has already been taken."]}
    other = tag(org, "Later")
    clash = org.api.put(org.path(f"/tags/{other['id']}"), json={"title": "URGENT"})
    assert clash.status_code == 422 and "title" in clash.json()["errors"]
    # Its own title, in another case, is fine.
    assert (
        ok(org.api.put(org.path(f"/tags/{first['id']}"), json={"title": "URGENT"}))["title"]
        == "URGENT"
    )
    # Another organization may use the same title.
    with_other = org.server.new_org()
    with org.server.client(with_other.token) as api:
        again = api.post(f"/organizations/{with_other.org_id}/tags", json={"title": "Urgent"})
    assert again.status_code == 201


def test_malformed_json_is_400(org: Org) -> None:
    response = org.api.post(
        org.path("/tags"), content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


def test_update_changes_only_what_is_sent(org: Org, emitted: list[events.Event]) -> None:
    made = tag(org, "Urgent", color="#ff0000")
    recolored = ok(org.api.put(org.path(f"/tags/{made['id']}"), json={"color": "#00ff00"}))
    assert (recolored["title"], recolored["color"]) == ("Urgent", "#00ff00")
    renamed = ok(org.api.put(org.path(f"/tags/{made['id']}"), json={"title": "Soon"}))
    assert (renamed["title"], renamed["color"]) == ("Soon", "#00ff00")
    cleared = ok(org.api.put(org.path(f"/tags/{made['id']}"), json={"color": None}))
    assert cleared["color"] is None
    assert ("Tag", "updated", made["id"]) in of_org(org, emitted)
    bad = org.api.put(org.path(f"/tags/{made['id']}"), json={"color": "blue"})
    assert bad.status_code == 422 and "color" in bad.json()["errors"]
    missing = org.api.put(org.path(f"/tags/{UNKNOWN_ID}"), json={"title": "X"})
    assert (missing.status_code, missing.json()) == (404, NOT_FOUND)


def test_list_pages_sorts_and_searches(org: Org) -> None:
    for title in ("delta", "Alpha", "charlie", "Bravo"):
        tag(org, title)
    body = org.api.get(org.path("/tags"), params={"per_page": 3}).json()
    assert [t["title"] for t in body["data"]] == ["Alpha", "Bravo", "charlie"]
    pagination = body["meta"]["pagination"]
    assert (pagination["total"], pagination["per_page"], pagination["total_pages"]) == (4, 3, 2)
    assert isinstance(pagination["total_pages"], int)
    assert "next" in pagination["links"]
    assert titles(org, page=2, per_page=3) == ["delta"]
    assert titles(org, sort="-title") == ["delta", "charlie", "Bravo", "Alpha"]
    assert titles(org, q="AR") == ["charlie"]
    assert titles(org, q="%") == []
    default = org.api.get(org.path("/tags")).json()["meta"]["pagination"]
    assert default["per_page"] == 10


def test_auto_generated_tags_only_with_all_true(org: Org) -> None:
    tag(org, "Mine")
    auto = tag(org, "from:Onboarding")
    org.server.execute(f"UPDATE tags SET auto_generated = true WHERE id = '{auto['id']}'")
    assert titles(org) == ["Mine"]
    assert titles(org, all="True") == ["Mine"]  # the literal lowercase `true` only
    assert titles(org, all="true") == ["from:Onboarding", "Mine"]
    assert titles(org, all="true", auto_generated="true") == ["from:Onboarding"]
    assert titles(org, all="true", auto_generated="false") == ["Mine"]
    assert ok(org.api.get(org.path(f"/tags/{auto['id']}")))["auto_generated"] is True


def test_statistics(org: Org) -> None:
    made = tag(org, "Counted")
    live, archived = checklist(org, steps=1), checklist(org, steps=1)
    launched, stopped = run(org, live["id"]), run(org, live["id"])
    for subject_type, subject in (
        ("Checklist", live),
        ("Checklist", archived),
        ("Run", launched),
        ("Run", stopped),
    ):
        ok(
            org.api.post(
                org.path("/checklists/tags"),
                json={
                    "subject_id": subject["id"],
                    "subject_type": subject_type,
                    "tag_id": made["id"],
                    "tag_type": "private",
                },
            ),
            201,
        )
    assert org.api.delete(org.path(f"/checklists/{archived['id']}")).status_code == 200
    ok(org.api.delete(org.path(f"/runs/{stopped['id']}")))
    expected = {
        "data": {
            "active_template": 1,
            "archived_template": 1,
            "active_process": 1,
            "archived_process": 1,
        }
    }
    read = ok(org.api.get(org.path(f"/tags/{made['id']}"), params={"with": "statistics"}))
    assert read["statistics"] == expected
    listed = ok(org.api.get(org.path("/tags"), params={"with": "statistics"}))
    assert listed[0]["statistics"] == expected
    assert "statistics" not in ok(org.api.get(org.path(f"/tags/{made['id']}")))


def test_delete_is_hard_with_every_link_and_204_for_unknown(
    org: Org, emitted: list[events.Event]
) -> None:
    made = tag(org, "Gone")
    template = checklist(org, steps=1)
    ok(
        org.api.post(
            org.path("/checklists/tags"),
            json={
                "subject_id": template["id"],
                "subject_type": "Checklist",
                "tag_id": made["id"],
                "tag_type": "private",
            },
        ),
        201,
    )
    assert db_count(org, "tag_associations", "tag_id = :t", t=made["id"]) == 1
    response = org.api.delete(org.path(f"/tags/{made['id']}"))
    assert (response.status_code, response.content) == (204, b"")
    assert ("Tag", "deleted", made["id"]) in of_org(org, emitted)
    assert db_count(org, "tags", "id = :t", t=made["id"]) == 0
    assert db_count(org, "tag_associations", "tag_id = :t", t=made["id"]) == 0
    gone = org.api.get(org.path(f"/tags/{made['id']}"))
    assert (gone.status_code, gone.json()) == (404, NOT_FOUND)
    assert org.api.delete(org.path(f"/tags/{made['id']}")).status_code == 204
    assert org.api.delete(org.path(f"/tags/{UNKNOWN_ID}")).status_code == 204
    # The title is free again.
    tag(org, "Gone")


def test_other_organizations_tags_are_not_found(org: Org) -> None:
    made = tag(org, "Private")
    other = org.server.new_org()
    with org.server.client(other.token) as api:
        base = f"/organizations/{other.org_id}/tags/{made['id']}"
        assert api.get(base).status_code == 404
        assert api.put(base, json={"title": "Stolen"}).status_code == 404
        assert api.delete(base).status_code == 204
        assert api.get(f"/organizations/{other.org_id}/tags").json()["data"] == []
    assert ok(org.api.get(org.path(f"/tags/{made['id']}")))["title"] == "Private"


def test_light_members_read_but_do_not_change(org: Org) -> None:
    made = tag(org, "Shared")
    _, light = org.member("light")
    assert light.get(org.path(f"/tags/{made['id']}")).status_code == 200
    assert light.post(org.path("/tags"), json={"title": "Mine"}).status_code == 403
    assert light.put(org.path(f"/tags/{made['id']}"), json={"title": "X"}).status_code == 403
    assert light.delete(org.path(f"/tags/{made['id']}")).status_code == 403
    _, standard = org.member("standard")
    assert standard.post(org.path("/tags"), json={"title": "Ours"}).status_code == 201
