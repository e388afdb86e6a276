"""Member, group and organization changes emit domain events (recorded by the activity feed)."""

from __future__ import annotations

from tests.conftest import Org
from tests.members.conftest import invite
from tests.support.factories import db_count, ok


def events(org: Org, type_: str, verb: str, entity_id: str) -> int:
    return db_count(
        org,
        "activity_feeds",
        "org_id = :o AND type = :t AND verb = :v AND entity_id = :e",
        o=org.id,
        t=type_,
        v=verb,
        e=entity_id,
    )


def test_member_lifecycle_events(org: Org) -> None:
    invited = ok(invite(org))
    user = str(invited["id"])
    assert events(org, "User", "invited", user) == 1
    ok(org.api.put(org.path(f"/users/{user}/role"), json={"role": "standard"}))
    ok(
        org.api.put(
            org.path(f"/users/{user}"),
            json={"first_name": "A", "last_name": "B", "timezone": "UTC"},
        )
    )
    assert events(org, "User", "updated", user) == 2
    ok(org.api.delete(org.path(f"/users/{user}/disable")))
    assert events(org, "User", "disabled", user) == 1
    ok(org.api.put(org.path(f"/users/{user}/enable")))
    assert events(org, "User", "enabled", user) == 1
    ok(org.api.delete(org.path(f"/users/{user}")))
    assert events(org, "User", "deleted", user) == 1


def test_group_and_organization_events(org: Org) -> None:
    made = ok(org.api.post(org.path("/groups"), json={"name": "G", "description": "d"}), 201)
    ok(org.api.put(org.path(f"/groups/{made['id']}"), json={"name": "H"}), 201)
    assert org.api.delete(org.path(f"/groups/{made['id']}")).status_code == 204
    for verb in ("created", "updated", "deleted"):
        assert events(org, "Group", verb, made["id"]) == 1
    ok(org.api.put(org.path(""), json={"city": "Oslo"}))
    assert events(org, "Organization", "updated", org.id) == 1
    refused = org.api.post(org.path("/groups"), json={"name": "H2", "members": [424242]})
    assert refused.status_code == 422
    assert db_count(org, "activity_feeds", "org_id = :o AND type = 'Group'", o=org.id) == 3
