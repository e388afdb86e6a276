"""DELETE /guests/{email}/delete: permanent, after a disable or a removal (as members)."""

from __future__ import annotations

from tests.conftest import LiveServer, Org, new_org
from tests.support.factories import db_count, ok, one_off_task


def test_permanent_delete_needs_disable_or_removal_first(org: Org) -> None:
    email = "gone@example.com"
    task = one_off_task(org, owners={"users": [org.admin_id], "guests": [email]})
    group = ok(
        org.api.post(
            org.path("/groups"), json={"name": "Clients", "description": "x", "guests": [email]}
        ),
        201,
    )
    path = org.path(f"/guests/{email}/delete")
    early = org.api.delete(path)
    assert early.status_code == 422 and list(early.json()["errors"]) == ["status"]
    ok(org.api.delete(org.path(f"/guests/{email}/disable")))
    gone = org.api.delete(path)
    assert gone.status_code == 204 and gone.content == b""
    assert org.api.get(org.path(f"/guests/{email}")).status_code == 404
    assert ok(org.api.get(org.path(f"/tasks/{task['id']}")))["owners"]["guests"] == []
    assert ok(org.api.get(org.path(f"/groups/{group['id']}")))["guests"] == []
    where = "org_id = :org_id AND email = :email"
    assert db_count(org, "guests", where, org_id=org.id, email=email) == 0
    assert org.api.delete(path).status_code == 404
    # The address can be a guest again, afresh.
    again = ok(org.api.post(org.path("/guests"), json={"email": email}), 201)
    assert again["email"] == email


def test_a_removed_guest_can_be_deleted_and_only_by_an_admin(org: Org, server: LiveServer) -> None:
    email = "removed@example.com"
    ok(org.api.post(org.path("/guests"), json={"email": email}), 201)
    _, standard = org.member("standard")
    ok(org.api.delete(org.path(f"/guests/{email}")))
    with standard:
        assert standard.delete(org.path(f"/guests/{email}/delete")).status_code == 403
    with new_org(server) as stranger:
        assert stranger.api.delete(stranger.path(f"/guests/{email}/delete")).status_code == 404
    assert org.api.delete(org.path(f"/guests/{email}/delete")).status_code == 204
