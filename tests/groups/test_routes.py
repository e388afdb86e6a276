"""Groups (§2.4): CRUD, list options, permissions, and groups as assignees everywhere."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tallyfy import TallyfySDK
from tallyfy.models import TallyfyError

from tests.conftest import Org
from tests.support.factories import checklist, db_count, ok, one_off_task, run

HEX32 = re.compile(r"^[0-9a-f]{32}$")
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
INVALID_GROUPS = "The selected groups is invalid."


@pytest.fixture
def sdk(org: Org) -> TallyfySDK:
    return TallyfySDK(api_key=org.token, base_url=org.server.api, max_retries=0)


def group(org: Org, **fields: Any) -> dict[str, Any]:
    body = {"name": "Support", "description": "First line", **fields}
    return ok(org.api.post(org.path("/groups"), json=body), 201)


# --- create -----------------------------------------------------------------------------------


def test_create_answers_201_with_the_group(org: Org) -> None:
    user_id, _ = org.member("standard")
    data = group(
        org,
        members=[user_id, org.admin_id, user_id],
        guests=["Client@Example.com", "client@example.com"],
    )
    assert HEX32.fullmatch(data["id"])
    assert data["name"] == "Support" and data["description"] == "First line"
    assert data["members"] == [user_id, org.admin_id]
    assert data["guests"] == ["client@example.com"]
    assert ISO_Z.fullmatch(data["created_at"]) and ISO_Z.fullmatch(data["last_updated"])
    assert data["logo"] is None and data["deleted_at"] is None


def test_create_without_description_is_accepted(org: Org, sdk: TallyfySDK) -> None:
    """The SDK leaves `description` out when it is empty: accepted, stored as ""."""
    made = sdk.groups.create_group(org.id, "Night shift")
    assert HEX32.fullmatch(made.id) and made.description == ""
    assert ok(org.api.get(org.path(f"/groups/{made.id}")))["name"] == "Night shift"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"description": "x"}, "name"),
        ({"name": "", "description": "x"}, "name"),
        ({"name": "   ", "description": "x"}, "name"),
        ({"name": "n" * 201, "description": "x"}, "name"),
        ({"name": "G", "members": ["abc"]}, "members.0"),
        ({"name": "G", "members": [999999]}, "members.0"),
        ({"name": "G", "members": "1"}, "members"),
        ({"name": "G", "guests": ["not-an-email"]}, "guests.0"),
        ({"name": "G", "guests": "a@b.co"}, "guests"),
        ({"name": 5}, "name"),
    ],
)
def test_create_bad_input_is_422(org: Org, body: dict[str, Any], field: str) -> None:
    response = org.api.post(org.path("/groups"), json=body)
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"]


def test_names_are_unique_in_the_org_whatever_the_case(org: Org) -> None:
    group(org, name="Finance")
    again = org.api.post(org.path("/groups"), json={"name": "FINANCE", "description": "x"})
    assert again.status_code == 422 and "name" in again.json()["errors"]
    other = org.server.new_org()
    with org.server.client(other.token) as them:
        ok(
            them.post(
                f"/organizations/{other.org_id}/groups",
                json={"name": "Finance", "description": "theirs"},
            ),
            201,
        )


def test_members_of_another_org_are_refused(org: Org) -> None:
    other = org.server.new_org()
    response = org.api.post(org.path("/groups"), json={"name": "G", "members": [other.user_id]})
    assert response.status_code == 422 and "members.0" in response.json()["errors"]


def test_malformed_json_is_400(org: Org) -> None:
    response = org.api.post(
        org.path("/groups"), content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


# --- permissions ------------------------------------------------------------------------------


def test_managing_groups_is_for_admins(org: Org) -> None:
    _, standard = org.member("standard")
    _, light = org.member("light")
    made = group(org)
    with standard, light:
        for client in (standard, light):
            assert client.post(org.path("/groups"), json={"name": "X"}).status_code == 403
            assert (
                client.put(org.path(f"/groups/{made['id']}"), json={"name": "Y"}).status_code == 403
            )
            assert client.delete(org.path(f"/groups/{made['id']}")).status_code == 403
            assert ok(client.get(org.path(f"/groups/{made['id']}")))["id"] == made["id"]
            assert len(ok(client.get(org.path("/groups")))) == 1
        ok(org.api.put(org.path(""), json={"allow_manage_groups": True}))
        assert standard.post(org.path("/groups"), json={"name": "X"}).status_code == 201
        assert light.post(org.path("/groups"), json={"name": "Z"}).status_code == 403


# --- get / list -------------------------------------------------------------------------------


def test_get_unknown_or_foreign_group_is_404(org: Org) -> None:
    other = org.server.new_org()
    with org.server.client(other.token) as them:
        theirs = ok(
            them.post(
                f"/organizations/{other.org_id}/groups", json={"name": "Theirs", "description": "x"}
            ),
            201,
        )
    for group_id in (theirs["id"], "0" * 32, "nope", "x" * 300):
        assert org.api.get(org.path(f"/groups/{group_id}")).status_code == 404
        assert org.api.put(org.path(f"/groups/{group_id}"), json={"name": "a"}).status_code == 404
        assert org.api.delete(org.path(f"/groups/{group_id}")).status_code == 404


def test_list_q_sort_and_paging(org: Org) -> None:
    group(org, name="Bravo", description="night team")
    group(org, name="alpha", description="day team")
    group(org, name="Charlie", description="weekend")

    def names(**params: Any) -> list[str]:
        return [g["name"] for g in ok(org.api.get(org.path("/groups"), params=params))]

    assert names() == ["Bravo", "alpha", "Charlie"]
    assert names(sort_by="name") == ["alpha", "Bravo", "Charlie"]
    assert names(sort_by="-name") == ["Charlie", "Bravo", "alpha"]
    assert names(q="TEAM") == ["Bravo", "alpha"]
    assert names(q="charl") == ["Charlie"]
    page = org.api.get(org.path("/groups"), params={"per_page": 2, "page": 2}).json()
    assert [g["name"] for g in page["data"]] == ["Charlie"]
    meta = page["meta"]["pagination"]
    assert meta["total_pages"] == 2 and isinstance(meta["total_pages"], int)
    assert meta["total"] == 3 and meta["per_page"] == 2
    assert org.api.get(org.path("/groups")).json()["meta"]["pagination"]["per_page"] == 10
    capped = org.api.get(org.path("/groups"), params={"per_page": 500}).json()
    assert capped["meta"]["pagination"]["per_page"] == 100


def test_list_and_get_includes(org: Org) -> None:
    user_id, _ = org.member("light")
    made = group(org, members=[user_id], guests=["g@example.com"])
    listed = ok(org.api.get(org.path("/groups"), params={"with": "users,guests,assets"}))[0]
    assert [u["id"] for u in listed["users"]["data"]] == [user_id]
    assert listed["users"]["data"][0]["role"] == "light"
    assert listed["guests"] == ["g@example.com"]
    assert listed["assets"] == {"data": []}
    one = ok(org.api.get(org.path(f"/groups/{made['id']}"), params={"with": "assets"}))
    assert one["assets"] == {"data": []} and "users" not in one


def test_sdk_walks_every_page(org: Org, sdk: TallyfySDK) -> None:
    for i in range(5):
        group(org, name=f"Group {i}")
    found = sdk.groups.get_groups(org.id, per_page=2)
    assert sorted(g.name for g in found) == [f"Group {i}" for i in range(5)]
    assert sdk.groups.get_group(org.id, found[0].id).name == found[0].name


# --- update -----------------------------------------------------------------------------------


def test_update_replaces_lists_and_answers_201(org: Org) -> None:
    first, _ = org.member("standard")
    second, _ = org.member("standard")
    made = group(org, members=[first], guests=["a@example.com"])
    response = org.api.put(
        org.path(f"/groups/{made['id']}"),
        json={"name": "Renamed", "members": [second], "guests": ["B@example.com"]},
    )
    data = ok(response, 201)
    assert data["name"] == "Renamed" and data["description"] == "First line"
    assert data["members"] == [second] and data["guests"] == ["b@example.com"]
    kept = ok(org.api.put(org.path(f"/groups/{made['id']}"), json={"description": "New"}), 201)
    assert kept["members"] == [second] and kept["name"] == "Renamed"
    same = ok(
        org.api.put(
            org.path(f"/groups/{made['id']}"),
            json={"members": [second, first], "guests": ["b@example.com"]},
        ),
        201,
    )
    assert sorted(same["members"]) == sorted([first, second])
    assert same["guests"] == ["b@example.com"]
    fetched = ok(org.api.get(org.path(f"/groups/{made['id']}")))
    assert sorted(fetched["members"]) == sorted([first, second])
    emptied = ok(
        org.api.put(org.path(f"/groups/{made['id']}"), json={"members": [], "guests": []}), 201
    )
    assert emptied["members"] == [] and emptied["guests"] == []


def test_update_refusals(org: Org) -> None:
    group(org, name="Taken")
    made = group(org, name="Mine")
    url = org.path(f"/groups/{made['id']}")
    assert org.api.put(url, json={"name": "taken"}).status_code == 422
    assert ok(org.api.put(url, json={"name": "MINE"}), 201)["name"] == "MINE"
    assert org.api.put(url, json={"members": [424242]}).status_code == 422
    assert org.api.put(url, json={"guests": ["bad"]}).status_code == 422
    assert org.api.put(url, json={"name": ""}).status_code == 422


def test_sdk_update_group(org: Org, sdk: TallyfySDK) -> None:
    user_id, _ = org.member("standard")
    made = group(org)
    updated = sdk.groups.update_group(org.id, made["id"], members=[user_id])
    assert updated.members == [user_id] and updated.name == "Support"
    assert updated.description == "First line"


# --- delete -----------------------------------------------------------------------------------


def test_delete_is_204_and_leaves_members_alone(org: Org, sdk: TallyfySDK) -> None:
    user_id, _ = org.member("standard")
    made = group(org, members=[user_id])
    task = one_off_task(org, owners={"users": [org.admin_id], "groups": [made["id"]]})
    template = checklist(org, steps=0)
    step = ok(
        org.api.post(
            org.path(f"/checklists/{template['id']}/steps"),
            json={"title": "S", "groups": [made["id"]]},
        ),
        201,
    )
    response = org.api.delete(org.path(f"/groups/{made['id']}"))
    assert response.status_code == 204 and response.content == b""
    assert org.api.get(org.path(f"/groups/{made['id']}")).status_code == 404
    assert ok(org.api.get(org.path(f"/users/{user_id}")))["status"] == "active"
    assert ok(org.api.get(org.path(f"/tasks/{task['id']}")))["owners"]["groups"] == []
    fetched = ok(org.api.get(org.path(f"/checklists/{template['id']}/steps/{step['id']}")))
    assert fetched["groups"] == []
    assert db_count(org, "group_members", "group_id = :g", g=made["id"]) == 0
    other = group(org, name="Other")
    assert sdk.groups.delete_group(org.id, other["id"]) is True
    with pytest.raises(TallyfyError):
        sdk.groups.get_group(org.id, other["id"])


# --- groups as assignees ----------------------------------------------------------------------


def _assert_invalid(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.json()["errors"][field] == [INVALID_GROUPS]


def test_task_owners_groups_must_be_this_orgs(org: Org) -> None:
    mine = group(org)
    other = org.server.new_org()
    with org.server.client(other.token) as them:
        theirs = ok(
            them.post(
                f"/organizations/{other.org_id}/groups", json={"name": "T", "description": "x"}
            ),
            201,
        )
    base = {"title": "T", "deadline": "2030-01-01T00:00:00Z", "task_type": "task"}
    for bad in ([theirs["id"]], ["nope"], [mine["id"], "0" * 32]):
        _assert_invalid(
            org.api.post(org.path("/tasks"), json={**base, "owners": {"groups": bad}}),
            "owners.groups",
        )
    task = ok(
        org.api.post(org.path("/tasks"), json={**base, "owners": {"groups": [mine["id"]]}}), 201
    )
    assert task["owners"]["groups"] == [mine["id"]]
    _assert_invalid(
        org.api.put(
            org.path(f"/tasks/{task['id']}"), json={**base, "owners": {"groups": ["nope"]}}
        ),
        "owners.groups",
    )


def test_step_run_and_launch_groups_must_be_this_orgs(org: Org) -> None:
    mine = group(org)
    template = checklist(org, steps=1)
    steps_url = org.path(f"/checklists/{template['id']}/steps")
    _assert_invalid(org.api.post(steps_url, json={"title": "S", "groups": ["nope"]}), "groups")
    ok(org.api.post(steps_url, json={"title": "S", "groups": [mine["id"]]}), 201)
    launch = {"checklist_id": template["id"], "name": "R"}
    _assert_invalid(org.api.post(org.path("/runs"), json={**launch, "groups": ["nope"]}), "groups")
    step_id = ok(org.api.get(steps_url))[0]["id"]
    bad_override = {step_id: {"owners": {"groups": ["nope"]}}}
    _assert_invalid(
        org.api.post(org.path("/runs"), json={**launch, "tasks": bad_override}), "owners.groups"
    )
    launched = run(org, template["id"], groups=[mine["id"]])
    assert launched["groups"] == [mine["id"]]
    _assert_invalid(
        org.api.put(org.path(f"/runs/{launched['id']}"), json={"groups": ["x"]}), "groups"
    )


def test_members_see_tasks_of_their_groups(org: Org) -> None:
    user_id, member = org.member("standard")
    outsider, _ = org.member("standard")
    made = group(org, members=[user_id])
    via_group = one_off_task(org, owners={"groups": [made["id"]]})
    direct = one_off_task(org, owners={"users": [user_id]})
    one_off_task(org, owners={"users": [outsider]})
    theirs = {t["id"] for t in ok(org.api.get(org.path(f"/users/{user_id}/tasks")))}
    assert theirs == {via_group["id"], direct["id"]}
    outside = {t["id"] for t in ok(org.api.get(org.path(f"/users/{outsider}/tasks")))}
    assert via_group["id"] not in outside
    with member:
        mine = {t["id"] for t in ok(member.get(org.path("/me/tasks")))}
        assert mine == {via_group["id"], direct["id"]}
        ok(org.api.put(org.path(f"/groups/{made['id']}"), json={"members": []}), 201)
        assert {t["id"] for t in ok(member.get(org.path("/me/tasks")))} == {direct["id"]}
