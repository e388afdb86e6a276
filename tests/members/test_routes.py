"""Members (§2.2): list, minimal list, get, invite, profile, role, and the member lifecycle."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tallyfy import TallyfySDK
from tallyfy.models import TallyfyError

from tests.conftest import Org
from tests.members.conftest import invite, make_bot, member_row, token_client
from tests.support.factories import checklist, db_count, ok, one_off_task

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DEFAULT_ADMIN = (
    "Cannot modify the default administrator. Please assign another member as "
    "default administrator first."
)
BOT = "You can't remove a bot user from this organization!"
USER_FIELDS = {
    "id",
    "email",
    "username",
    "first_name",
    "last_name",
    "full_name",
    "profile_pic",
    "country_id",
    "is_active",
    "last_login_at",
    "activated_at",
    "type",
    "created_at",
    "updated_at",
    "phone",
    "job_title",
    "job_description",
    "team",
    "timezone",
    "UTC_offset",
    "role",
    "status",
    "date_format",
    "is_default_admin",
    "invited_by",
    "approved_at",
    "disabled_at",
    "disabled_by",
    "reactivated_at",
    "reactivated_by",
    "last_known_ip",
    "last_known_country",
    "locale",
    "support_user",
}


# --- list -----------------------------------------------------------------------------------


def test_list_shows_every_status_with_all_fields(org: Org) -> None:
    standard_id, _ = org.member("standard")
    invited = ok(invite(org))
    disabled_id, _ = org.member("light")
    ok(org.api.delete(org.path(f"/users/{disabled_id}/disable")))
    body = org.api.get(org.path("/users")).json()
    by_id = {u["id"]: u for u in body["data"]}
    assert {
        by_id[org.admin_id]["status"],
        by_id[standard_id]["status"],
        by_id[invited["id"]]["status"],
        by_id[disabled_id]["status"],
    } == {"active", "invited", "disabled"}
    assert by_id[disabled_id]["status"] == "disabled"
    assert USER_FIELDS <= set(by_id[org.admin_id])
    assert body["meta"]["pagination"]["per_page"] == 9999
    assert body["meta"]["pagination"]["total"] == 4
    admin = by_id[org.admin_id]
    assert admin["is_default_admin"] is True and admin["role"] == "admin"
    assert ISO_Z.fullmatch(admin["created_at"]) and admin["UTC_offset"] == "+00:00"


def test_list_q_matches_names_and_email(org: Org) -> None:
    ok(invite(org, email="zed.q@example.com", first_name="Zed", last_name="Quincy"))
    ok(invite(org, email="amy@corp.example.com", first_name="Amy", last_name="Other"))

    def names(q: str) -> list[str]:
        return [u["first_name"] for u in ok(org.api.get(org.path("/users"), params={"q": q}))]

    assert names("zed") == ["Zed"]
    assert names("QUINCY") == ["Zed"]
    assert names("corp.example") == ["Amy"]
    assert names("Zed Quincy") == ["Zed"]
    assert names("nobody-here") == []


def test_list_sort_and_paging(org: Org) -> None:
    ok(invite(org, first_name="Bob"))
    ok(invite(org, first_name="Al"))
    first = [
        u["first_name"] for u in ok(org.api.get(org.path("/users"), params={"sort": "first_name"}))
    ]
    assert first == sorted(first, key=str.lower)
    last = [
        u["first_name"] for u in ok(org.api.get(org.path("/users"), params={"sort": "-first_name"}))
    ]
    assert last == list(reversed(first))
    page = org.api.get(org.path("/users"), params={"per_page": 2, "page": 2}).json()
    assert page["meta"]["pagination"]["total_pages"] == 2 and len(page["data"]) == 1


def test_list_includes_are_wrapped(org: Org) -> None:
    user_id, _ = org.member("standard")
    group = ok(
        org.api.post(
            org.path("/groups"), json={"name": "Ops", "description": "x", "members": [user_id]}
        ),
        201,
    )
    one_off_task(org)
    rows = ok(org.api.get(org.path("/users"), params={"with": "groups,stats,preferences,country"}))
    by_id = {u["id"]: u for u in rows}
    assert [g["id"] for g in by_id[user_id]["groups"]["data"]] == [group["id"]]
    assert by_id[org.admin_id]["groups"] == {"data": []}
    assert by_id[org.admin_id]["stats"]["data"]["tasks_completed"] == 0
    assert by_id[org.admin_id]["preferences"] == {"data": []}
    assert by_id[org.admin_id]["country"] == {"data": None}


def test_sdk_lists_members(org: Org, sdk: TallyfySDK) -> None:
    user_id, _ = org.member("light")
    users = sdk.users.get_organization_users(org.id, with_groups=True)
    assert {u.id for u in users.data} == {org.admin_id, user_id}
    assert users.count == 2
    found = sdk.users.get_user_by_email(org.id, org.admin_email.upper())
    assert found is not None and found.id == org.admin_id


# --- users-list -------------------------------------------------------------------------------


def test_users_list_is_data_only_and_leaves_out_disabled(org: Org, sdk: TallyfySDK) -> None:
    user_id, _ = org.member("standard")
    invited = ok(invite(org))
    gone_id, _ = org.member("light")
    ok(org.api.delete(org.path(f"/users/{gone_id}/disable")))
    body = org.api.get(org.path("/users-list")).json()
    assert set(body) == {"data"}
    assert {u["id"] for u in body["data"]} == {org.admin_id, user_id, invited["id"]}
    assert {"id", "email", "full_name", "role", "status"} <= set(body["data"][0])
    listed = sdk.users.get_organization_users_list(org.id)
    assert sorted(u.id for u in listed.data) == sorted([org.admin_id, user_id, invited["id"]])


# --- get ----------------------------------------------------------------------------------


def test_get_member_is_admin_only(org: Org, sdk: TallyfySDK) -> None:
    user_id, standard = org.member("standard")
    data = member_row(org, user_id)
    assert data["id"] == user_id and data["role"] == "standard" and data["status"] == "active"
    assert USER_FIELDS <= set(data)
    with standard:
        refused = standard.get(org.path(f"/users/{org.admin_id}"))
    assert refused.status_code == 403 and refused.json()["error"] is True
    user = sdk.users.get_user(org.id, user_id)
    assert user is not None and user.id == user_id and user.role == "standard"


@pytest.mark.parametrize("bad", ["999999", "abc", "0", "-1", "1.5", "99999999999"])
def test_get_unknown_member_is_404(org: Org, bad: str) -> None:
    response = org.api.get(org.path(f"/users/{bad}"))
    assert response.status_code == 404
    assert response.json()["code"] == "RESOURCE_NOT_FOUND"


def test_member_of_another_org_is_404(org: Org) -> None:
    other = org.server.new_org()
    assert org.api.get(org.path(f"/users/{other.user_id}")).status_code == 404
    assert (
        org.api.put(org.path(f"/users/{other.user_id}/role"), json={"role": "light"}).status_code
        == 404
    )
    assert org.api.delete(org.path(f"/users/{other.user_id}")).status_code == 404


# --- invite -------------------------------------------------------------------------------


def test_invite_answers_200_with_an_invited_member(org: Org) -> None:
    response = invite(org, email="New.Person@Example.com", role="standard", message="Hi")
    data = ok(response, 200)
    assert data["status"] == "invited" and data["role"] == "standard"
    assert data["invited_by"] == org.admin_id
    assert data["email"] == "new.person@example.com"
    assert data["first_name"] == "Ivy" and isinstance(data["id"], int)


def test_invite_role_defaults_to_light(org: Org, sdk: TallyfySDK) -> None:
    assert ok(invite(org))["role"] == "light"
    user = sdk.users.invite_user_to_organization(org.id, "sdk-invite@example.com", "Sam", "Dee")
    assert user is not None and user.status == "invited" and user.role == "light"


def test_invite_existing_member_is_422(org: Org) -> None:
    ok(invite(org, email="twice@example.com"))
    again = invite(org, email="TWICE@example.com")
    assert again.status_code == 422 and "email" in again.json()["errors"]
    assert invite(org, email=org.admin_email).status_code == 422


def test_invite_someone_from_another_org_keeps_their_profile(org: Org) -> None:
    other = org.server.new_org()
    data = ok(invite(org, email=other.email, first_name="Changed", last_name="Name"))
    assert data["id"] == other.user_id and data["first_name"] == "Admin"
    assert data["status"] == "invited"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "not-an-email"}, "email"),
        ({"first_name": ""}, "first_name"),
        ({"last_name": "x" * 33}, "last_name"),
        ({"role": "owner"}, "role"),
        ({"message": "m" * 5001}, "message"),
        ({"first_name": "https://spam.example"}, "first_name"),
    ],
)
def test_invite_bad_input_is_422(org: Org, body: dict[str, Any], field: str) -> None:
    response = invite(org, **body)
    assert response.status_code == 422
    assert field in response.json()["errors"]


def test_invite_permissions(org: Org) -> None:
    _, standard = org.member("standard")
    _, light = org.member("light")
    with standard, light:
        assert ok(invite(org, standard, role="standard"))["invited_by"] is not None
        assert invite(org, standard, role="admin").status_code == 403
        assert invite(org, light).status_code == 403
        ok(org.api.put(org.path(""), json={"allow_user_invite": False}))
        assert invite(org, standard).status_code == 403
    assert invite(org, role="admin").status_code == 200


# --- profile ------------------------------------------------------------------------------

PROFILE = {"first_name": "Pat", "last_name": "Lee", "timezone": "America/Los_Angeles"}


def test_admin_updates_a_profile(org: Org) -> None:
    user_id, _ = org.member("standard")
    body = {
        **PROFILE,
        "phone": "+1 555 0100",
        "job_title": "Ops",
        "team": "Core",
        "country_id": 44,
        "date_format": "dd/mm/yyyy",
        "job_description": "Runs things",
    }
    data = ok(org.api.put(org.path(f"/users/{user_id}"), json=body))
    assert data["full_name"] == "Pat Lee" and data["timezone"] == "America/Los_Angeles"
    assert data["UTC_offset"] in ("-08:00", "-07:00")
    assert (
        data["phone"],
        data["job_title"],
        data["team"],
        data["country_id"],
        data["date_format"],
    ) == ("+1 555 0100", "Ops", "Core", 44, "dd/mm/yyyy")
    assert member_row(org, user_id)["job_description"] == "Runs things"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"first_name": None}, "first_name"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"last_name": "www.example.com"}, "last_name"),
        ({"phone": "1" * 21}, "phone"),
        ({"date_format": "yyyy-mm-dd"}, "date_format"),
        ({"country_id": "x"}, "country_id"),
    ],
)
def test_profile_bad_input_is_422(org: Org, change: dict[str, object], field: str) -> None:
    user_id, _ = org.member("standard")
    body = {k: v for k, v in {**PROFILE, **change}.items() if v is not None}
    response = org.api.put(org.path(f"/users/{user_id}"), json=body)
    assert response.status_code == 422 and field in response.json()["errors"]


def test_profile_permissions(org: Org) -> None:
    user_id, standard = org.member("standard")
    other_id, _ = org.member("light")
    with standard:
        assert standard.put(org.path(f"/users/{other_id}"), json=PROFILE).status_code == 403
        mine = ok(standard.put(org.path(f"/users/{user_id}"), json=PROFILE))
        assert mine["first_name"] == "Pat"
    assert org.api.put(org.path("/users/999999"), json=PROFILE).status_code == 404


def test_bot_users_cannot_be_edited(org: Org) -> None:
    bot_id, _ = org.member("standard")
    make_bot(org, bot_id)
    response = org.api.put(org.path(f"/users/{bot_id}"), json=PROFILE)
    assert response.status_code == 400 and response.json()["error"] is True
    assert member_row(org, bot_id)["type"] == "bot"


def test_members_of_other_orgs_edit_only_themselves(org: Org) -> None:
    other = org.server.new_org()
    ok(invite(org, email=other.email))
    response = org.api.put(org.path(f"/users/{other.user_id}"), json=PROFILE)
    assert response.status_code == 403


# --- role ---------------------------------------------------------------------------------


def test_change_role(org: Org, sdk: TallyfySDK) -> None:
    user_id, member = org.member("light")
    data = ok(org.api.put(org.path(f"/users/{user_id}/role"), json={"role": "admin"}))
    assert data["role"] == "admin"
    with member:
        assert ok(member.get(org.path("/me")))["role"] == "admin"
    assert sdk.users.change_user_role(org.id, user_id, "standard") is True
    assert member_row(org, user_id)["role"] == "standard"


def test_change_role_refusals(org: Org) -> None:
    user_id, standard = org.member("standard")
    bad = org.api.put(org.path(f"/users/{user_id}/role"), json={"role": "boss"})
    assert bad.status_code == 422 and "role" in bad.json()["errors"]
    assert org.api.put(org.path(f"/users/{user_id}/role"), json={}).status_code == 422
    with standard:
        assert (
            standard.put(org.path(f"/users/{user_id}/role"), json={"role": "admin"}).status_code
            == 403
        )
    protected = org.api.put(org.path(f"/users/{org.admin_id}/role"), json={"role": "light"})
    assert protected.status_code == 400 and protected.json()["message"] == DEFAULT_ADMIN
    make_bot(org, user_id)
    assert (
        org.api.put(org.path(f"/users/{user_id}/role"), json={"role": "light"}).status_code == 400
    )


# --- remove, disable, enable, delete, approve -----------------------------------------------


def test_remove_disables_and_their_token_stops_working(org: Org) -> None:
    user_id, member = org.member("standard")
    data = ok(org.api.delete(org.path(f"/users/{user_id}")))
    assert data["status"] == "disabled" and data["disabled_by"] == org.admin_id
    assert ISO_Z.fullmatch(data["disabled_at"])
    with member:
        refused = member.get(org.path("/checklists"))
    assert refused.status_code == 403
    assert ok(org.api.get(org.path("")))["users_count"] == 1


def test_remove_with_reassignment_moves_open_tasks(org: Org) -> None:
    leaving, _ = org.member("standard")
    heir, _ = org.member("standard")
    task = one_off_task(org, owners={"users": [leaving]})
    shared = one_off_task(org, owners={"users": [leaving, heir]})
    done = one_off_task(org, owners={"users": [leaving]})
    ok(org.api.post(org.path("/completed-tasks"), json={"task_id": done["id"]}))
    ok(
        org.api.delete(
            org.path(f"/users/{leaving}"), params={"with_reassignment": "true", "to": str(heir)}
        )
    )

    def owners(t: dict[str, Any]) -> Any:
        return ok(org.api.get(org.path(f"/tasks/{t['id']}")))["owners"]["users"]

    assert owners(task) == [heir]
    assert owners(shared) == [heir]
    assert owners(done) == [leaving]


@pytest.mark.parametrize("to", ["", "abc", "999999", "self", "disabled"])
def test_remove_with_a_bad_reassignment_target_is_422(org: Org, to: str) -> None:
    leaving, _ = org.member("standard")
    gone, _ = org.member("standard")
    ok(org.api.delete(org.path(f"/users/{gone}/disable")))
    target = {"self": str(leaving), "disabled": str(gone)}.get(to, to)
    response = org.api.delete(
        org.path(f"/users/{leaving}"), params={"with_reassignment": "true", "to": target}
    )
    assert response.status_code == 422 and "to" in response.json()["errors"]
    assert member_row(org, leaving)["status"] == "active"


def test_remove_refusals(org: Org) -> None:
    bot_id, standard = org.member("standard")
    make_bot(org, bot_id)
    bot = org.api.delete(org.path(f"/users/{bot_id}"))
    assert bot.status_code == 400 and bot.json()["message"] == BOT
    admin = org.api.delete(org.path(f"/users/{org.admin_id}"))
    assert admin.status_code == 400 and admin.json()["message"] == DEFAULT_ADMIN
    assert org.api.delete(org.path(f"/users/{org.admin_id}/disable")).status_code == 400
    assert org.api.delete(org.path("/users/424242")).status_code == 404
    other_id, _ = org.member("light")
    with standard:
        assert standard.delete(org.path(f"/users/{other_id}")).status_code == 403


def test_disable_then_enable(org: Org, sdk: TallyfySDK) -> None:
    user_id, member = org.member("light")
    assert sdk.users.disable_user(org.id, user_id) is True
    with member:
        assert member.get(org.path("/me")).status_code == 403
        disabled = ok(org.api.get(org.path(f"/users/{user_id}")))
        assert disabled["disabled_at"] is not None and disabled["disabled_by"] == org.admin_id
        enabled = ok(org.api.put(org.path(f"/users/{user_id}/enable")))
        assert enabled["status"] == "active" and enabled["reactivated_by"] == org.admin_id
        assert enabled["disabled_at"] is None and enabled["disabled_by"] is None
        assert enabled["reactivated_at"] is not None
        assert ok(member.get(org.path("/me")))["status"] == "active"
    assert sdk.users.enable_user(org.id, user_id) is True
    _, standard = org.member("standard")
    with standard:
        assert standard.put(org.path(f"/users/{user_id}/enable")).status_code == 403
        assert standard.delete(org.path(f"/users/{user_id}/disable")).status_code == 403


def test_permanent_delete_needs_disable_first(org: Org) -> None:
    user_id, member = org.member("standard")
    task = one_off_task(org, owners={"users": [user_id, org.admin_id]})
    early = org.api.delete(org.path(f"/users/{user_id}/delete"))
    assert early.status_code == 422 and "status" in early.json()["errors"]
    ok(org.api.delete(org.path(f"/users/{user_id}/disable")))
    gone = org.api.delete(org.path(f"/users/{user_id}/delete"))
    assert gone.status_code == 204 and gone.content == b""
    assert org.api.get(org.path(f"/users/{user_id}")).status_code == 404
    assert ok(org.api.get(org.path(f"/tasks/{task['id']}")))["owners"]["users"] == [org.admin_id]
    assert (
        db_count(
            org,
            "access_tokens",
            "user_id = :u AND org_id = :o AND revoked_at IS NULL",
            u=user_id,
            o=org.id,
        )
        == 0
    )
    with member:
        assert member.get(org.path("/me")).status_code in (401, 403)
    assert org.api.delete(org.path(f"/users/{user_id}/delete")).status_code == 404


def test_permanent_delete_refusals(org: Org) -> None:
    assert org.api.delete(org.path(f"/users/{org.admin_id}/delete")).status_code == 400
    user_id, standard = org.member("standard")
    with standard:
        assert standard.delete(org.path(f"/users/{user_id}/delete")).status_code == 403


def test_approve_activates_an_invited_member(org: Org, sdk: TallyfySDK) -> None:
    invited = ok(invite(org))
    data = ok(org.api.put(org.path(f"/users/{invited['id']}/approve")))
    assert data["status"] == "active" and ISO_Z.fullmatch(data["approved_at"])
    second = ok(invite(org))
    assert sdk.users.approve_user(org.id, second["id"]) is True
    assert member_row(org, second["id"])["status"] == "active"
    ok(org.api.delete(org.path(f"/users/{second['id']}/disable")))
    assert org.api.put(org.path(f"/users/{second['id']}/approve")).status_code == 422
    _, standard = org.member("standard")
    with standard:
        assert standard.put(org.path(f"/users/{invited['id']}/approve")).status_code == 403


def test_sdk_errors_surface_as_tallyfy_errors(org: Org, sdk: TallyfySDK) -> None:
    with pytest.raises(TallyfyError) as caught:
        sdk.users.change_user_role(org.id, org.admin_id, "light")
    assert caught.value.status_code == 400


def test_invited_member_task_list_and_checklist_owner(org: Org) -> None:
    """An invited member is a member: tasks and templates may name them."""
    invited = ok(invite(org))
    task = one_off_task(org, owners={"users": [invited["id"]]})
    assert [u if isinstance(u, int) else u["id"] for u in task["owners"]["users"]] == [
        invited["id"]
    ]
    made = checklist(org, steps=0, owner_id=invited["id"])
    assert made["owner_id"] == invited["id"]
    tasks = ok(org.api.get(org.path(f"/users/{invited['id']}/tasks")))
    assert [t["id"] for t in tasks] == [task["id"]]


def test_token_of_an_invited_member_works(org: Org) -> None:
    invited = ok(invite(org))
    with token_client(org, invited["email"]) as client:
        assert ok(client.get(org.path("/me")))["status"] == "invited"
