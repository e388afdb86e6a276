"""Guests over HTTP (§2.3): create and its rules, read by email in every path form, update,
disable/enable, remove, the two lists, and tenancy."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import Org
from tests.guests.conftest import Recorder, address, guest, refused
from tests.support.factories import ok

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
CODE = re.compile(r"^[A-Za-z0-9]{32}$")
NOT_FOUND = {"error": True, "message": "Resource not found", "code": "RESOURCE_NOT_FOUND"}


def code_of(made: dict[str, Any]) -> str:
    return str(made["link"].rsplit("/guest/", 1)[1])


def encoded(email: str) -> str:
    """The path segment as the SDK sends it: `@` as %40, `+` as %2B."""
    return quote(email, safe="")


# --- create ------------------------------------------------------------------------------------


def test_create_guest_answers_the_documented_object(org: Org, recorded: Recorder) -> None:
    email = address("Grace")
    made = guest(
        org,
        email,
        phone="+1 555 0100",
        phone_1="555-0100",
        company_name="Navy",
        company_url="https://navy.example.com",
        timezone="Europe/Paris",
        status="lead",
        external_sync_source="salesforce",
        external_date_creation="2025-01-15 10:30:00",
    )
    assert isinstance(made["id"], int)
    assert made["email"] == email.lower()
    assert (made["first_name"], made["last_name"]) == ("Grace", "Hopper")
    # The guest's page in the web app, whichever prefix the client used.
    assert made["link"].startswith(org.server.base + "/app/guest/")
    assert CODE.match(code_of(made))
    details = made["details"]
    assert "data" not in details  # bare, not wrapped: the SDK reads a wrapped one as empty
    assert details["company_name"] == "Navy"
    assert details["phone_1"] == "555-0100"
    assert details["company_url"] == "https://navy.example.com"
    assert details["timezone"] == "Europe/Paris"
    assert details["status"] == "lead"
    assert details["external_sync_source"] == "salesforce"
    assert details["external_date_creation"] == "2025-01-15 10:30:00"
    assert details["associated_members"] == []
    assert details["disabled_at"] is None
    assert "phone" not in details and "phone" not in made  # stripped, as Tallyfy's validator
    assert ISO_Z.match(made["created_at"])
    assert made["deleted_at"] is None
    assert "stats" not in made
    assert recorded.of(org) == [("invited", str(made["id"]))]


def test_create_needs_only_the_email(org: Org) -> None:
    made = ok(org.api.post(org.path("/guests"), json={"email": "solo@example.com"}), 201)
    assert (made["email"], made["first_name"], made["last_name"]) == (
        "solo@example.com",
        None,
        None,
    )


def test_create_is_idempotent_by_email(org: Org, recorded: Recorder) -> None:
    email = address()
    first = guest(org, email)
    again = guest(org, email.upper(), first_name="Other")
    assert again["id"] == first["id"]
    assert again["link"] == first["link"]
    assert again["first_name"] == "Grace"  # an existing guest is returned as it is
    assert [g["email"] for g in ok(org.api.get(org.path("/guests")))] == [email]
    assert recorded.of(org) == [("invited", str(first["id"]))]


def test_create_refuses_a_members_email(org: Org) -> None:
    body = refused(org.api.post(org.path("/guests"), json={"email": org.admin_email.upper()}), 422)
    assert list(body["errors"]) == ["email"]
    email = address("member")
    ok(
        org.api.post(
            f"/applications/{org.id}/users",
            json={"email": email, "first_name": "Ada", "last_name": "L", "role": "light"},
        ),
        201,
    )
    body = refused(org.api.post(org.path("/guests"), json={"email": email}), 422)
    assert list(body["errors"]) == ["email"]
    assert ok(org.api.get(org.path("/guests"))) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"email": 42}, "email"),
        ({"email": "a@example.com", "first_name": "x" * 201}, "first_name"),
        ({"email": "a@example.com", "last_name": ["x"]}, "last_name"),
        ({"email": "a@example.com", "phone_1": "1" * 21}, "phone_1"),
        ({"email": "a@example.com", "phone_2": "1" * 21}, "phone_2"),
        ({"email": "a@example.com", "company_name": "x" * 201}, "company_name"),
        ({"email": "a@example.com", "company_url": "navy"}, "company_url"),
        ({"email": "a@example.com", "image_url": "ftp://x.example.com"}, "image_url"),
        ({"email": "a@example.com", "opportunity_name": "x" * 201}, "opportunity_name"),
        ({"email": "a@example.com", "timezone": "Mars/Olympus"}, "timezone"),
        ({"email": "a@example.com", "status": "x" * 201}, "status"),
        ({"email": "a@example.com", "external_sync_source": "hubspot"}, "external_sync_source"),
        (
            {"email": "a@example.com", "external_date_creation": "2025-01-15"},
            "external_date_creation",
        ),
    ],
)
def test_create_validation(org: Org, body: dict[str, Any], field: str) -> None:
    answer = refused(org.api.post(org.path("/guests"), json=body), 422)
    assert list(answer["errors"]) == [field]
    assert answer["message"] == answer["errors"][field][0]
    assert ok(org.api.get(org.path("/guests"))) == []


def test_create_refuses_malformed_json(org: Org) -> None:
    response = org.api.post(
        org.path("/guests"), content=b'{"email": ', headers={"Content-Type": "application/json"}
    )
    assert refused(response, 400)["code"] == "BAD_REQUEST"
    assert refused(org.api.post(org.path("/guests"), json=["a@example.com"]), 422)["errors"]


# --- read --------------------------------------------------------------------------------------


@pytest.mark.parametrize("local", ["plain", "grace+tasks", "Mixed.Case"])
def test_get_guest_by_email_in_every_path_form(org: Org, local: str) -> None:
    email = f"{local}@example.com"
    made = guest(org, email)
    for form in (email, encoded(email), email.upper(), encoded(email.upper())):
        fetched = ok(org.api.get(org.path(f"/guests/{form}")))
        assert fetched["id"] == made["id"], form
        assert fetched["email"] == email.lower()
    assert "%40" in encoded(email) and ("+" not in local or "%2B" in encoded(email))


def test_get_guest_with_stats(org: Org) -> None:
    made = guest(org)
    fetched = ok(org.api.get(org.path(f"/guests/{made['email']}"), params={"with": "stats"}))
    assert fetched["stats"] == {
        "assigned_tasks": 0,
        "tasks_completed": 0,
        "last_task_completed_at": None,
        "one_off_tasks_completed": 0,
        "last_one_off_task_completed_at": None,
    }


def test_get_unknown_guest_is_404(org: Org) -> None:
    assert refused(org.api.get(org.path("/guests/nobody@example.com")), 404) == NOT_FOUND
    assert refused(org.api.get(org.path(f"/guests/{org.admin_email}")), 404) == NOT_FOUND
    assert refused(org.api.get(org.path("/guests/not-an-email")), 404) == NOT_FOUND


def test_another_organizations_guest_is_never_seen(org: Org) -> None:
    theirs = org.server.new_org()
    with org.server.client(theirs.token) as them:
        made = ok(
            them.post(
                f"/organizations/{theirs.org_id}/guests",
                json={"email": "shared@example.com", "first_name": "Theirs"},
            ),
            201,
        )
        for call in (
            org.api.get(org.path("/guests/shared@example.com")),
            org.api.put(org.path("/guests/shared@example.com"), json={}),
            org.api.delete(org.path("/guests/shared@example.com/disable")),
            org.api.put(org.path("/guests/shared@example.com/enable")),
            org.api.get(org.path(f"/guests/{code_of(made)}/tasks")),
        ):
            assert refused(call, 404) == NOT_FOUND
        assert refused(org.api.delete(org.path("/guests/shared@example.com")), 422)
        assert ok(org.api.get(org.path("/guests"))) == []
        # The same address here is another guest, sharing nothing with theirs.
        mine = guest(org, "shared@example.com", first_name="Mine")
        assert mine["id"] != made["id"] and mine["link"] != made["link"]
        assert (
            ok(them.get(f"/organizations/{theirs.org_id}/guests/shared@example.com"))["first_name"]
            == "Theirs"
        )
    assert refused(org.api.get(f"/organizations/{theirs.org_id}/guests"), 403)


# --- update ------------------------------------------------------------------------------------


def test_update_replaces_associated_members_only(org: Org, recorded: Recorder) -> None:
    member_id, _ = org.member("standard")
    made = guest(org)
    path = org.path(f"/guests/{encoded(made['email'])}")
    updated = ok(
        org.api.put(
            path,
            json={
                "associated_members": [member_id, org.admin_id],
                "first_name": "Gracie",
                "email": "new@example.com",
            },
        ),
        201,
    )
    assert updated["details"]["associated_members"] == [member_id, org.admin_id]
    assert (updated["first_name"], updated["email"]) == ("Grace", made["email"])
    replaced = ok(org.api.put(path, json={"associated_members": [org.admin_id]}), 201)
    assert replaced["details"]["associated_members"] == [org.admin_id]
    assert ok(org.api.get(path))["details"]["associated_members"] == [org.admin_id]
    unchanged = ok(org.api.put(path, json={"first_name": "Ignored"}), 201)
    assert unchanged["details"]["associated_members"] == [org.admin_id]
    assert ok(org.api.put(path), 201)["details"]["associated_members"] == [org.admin_id]
    assert recorded.of(org) == [
        ("invited", str(made["id"])),
        ("updated", str(made["id"])),
        ("updated", str(made["id"])),
    ]


@pytest.mark.parametrize(
    ("members", "field"),
    [
        ([999_999], "associated_members.0"),
        (["x"], "associated_members.0"),
        ("1", "associated_members"),
    ],
)
def test_update_refuses_what_is_not_a_member(org: Org, members: Any, field: str) -> None:
    made = guest(org)
    body = refused(
        org.api.put(
            org.path(f"/guests/{made['email']}"),
            json={
                "associated_members": [org.admin_id, *members]
                if isinstance(members, list)
                else members
            },
        ),
        422,
    )
    key = field.replace(".0", ".1") if isinstance(members, list) else field
    assert list(body["errors"]) == [key]


def test_update_unknown_guest_is_404(org: Org) -> None:
    response = org.api.put(
        org.path("/guests/nobody@example.com"), json={"associated_members": [org.admin_id]}
    )
    assert refused(response, 404) == NOT_FOUND


# --- disable / enable --------------------------------------------------------------------------


def test_disable_and_enable(org: Org, recorded: Recorder) -> None:
    made = guest(org)
    path = org.path(f"/guests/{encoded(made['email'])}")
    disabled = ok(org.api.delete(path + "/disable"))
    assert ISO_Z.match(disabled["details"]["disabled_at"])
    assert disabled["details"]["disabled_by"] == org.admin_id
    again = ok(org.api.delete(path + "/disable"))
    assert again["details"]["disabled_at"] == disabled["details"]["disabled_at"]
    assert ok(org.api.get(path))["details"]["disabled_at"] is not None
    assert made["email"] in [g["email"] for g in ok(org.api.get(org.path("/guests")))]
    enabled = ok(org.api.put(path + "/enable"))
    assert enabled["details"]["disabled_at"] is None
    assert ISO_Z.match(enabled["details"]["reactivated_at"])
    assert enabled["details"]["reactivated_by"] == org.admin_id
    assert ok(org.api.put(path + "/enable"))["details"]["disabled_at"] is None
    gid = str(made["id"])
    assert recorded.of(org) == [("invited", gid), ("disabled", gid), ("enabled", gid)]


def test_disable_enable_refusals(org: Org) -> None:
    made = guest(org)
    assert refused(org.api.delete(org.path("/guests/nobody@example.com/disable")), 404)
    assert refused(org.api.put(org.path("/guests/nobody@example.com/enable")), 404)
    _, standard = org.member("standard")
    with standard:
        assert refused(standard.delete(org.path(f"/guests/{made['email']}/disable")), 403)
        assert refused(standard.put(org.path(f"/guests/{made['email']}/enable")), 403)
    assert ok(org.api.get(org.path(f"/guests/{made['email']}")))["details"]["disabled_at"] is None


# --- remove ------------------------------------------------------------------------------------


def test_remove_guest_and_invite_again(org: Org, recorded: Recorder) -> None:
    made = guest(org)
    path = org.path(f"/guests/{encoded(made['email'])}")
    removed = ok(org.api.delete(path))
    assert removed["id"] == made["id"] and ISO_Z.match(removed["deleted_at"])
    assert refused(org.api.get(path), 404) == NOT_FOUND
    assert ok(org.api.get(org.path("/guests"))) == []
    again = refused(org.api.delete(path), 422)
    assert list(again["errors"]) == ["email"]
    back = guest(org, made["email"])
    assert back["id"] == made["id"] and back["deleted_at"] is None
    gid = str(made["id"])
    assert recorded.of(org) == [("invited", gid), ("deleted", gid), ("invited", gid)]


def test_remove_refusals(org: Org) -> None:
    assert list(refused(org.api.delete(org.path("/guests/nobody@example.com")), 422)["errors"]) == [
        "email"
    ]
    made = guest(org)
    _, standard = org.member("standard")
    with standard:
        assert refused(standard.delete(org.path(f"/guests/{made['email']}")), 403)
    assert ok(org.api.get(org.path(f"/guests/{made['email']}")))["deleted_at"] is None


# --- lists -------------------------------------------------------------------------------------


def test_list_guests_search_sort_and_pages(org: Org) -> None:
    emails = ["carol@example.com", "alice@example.com", "bob@sample.org"]
    for email in emails:
        guest(org, email)
    listed = org.api.get(org.path("/guests"))
    assert [g["email"] for g in ok(listed)] == emails  # created_at, oldest first
    pagination = listed.json()["meta"]["pagination"]
    assert (pagination["total"], pagination["per_page"], pagination["total_pages"]) == (3, 999, 1)
    newest = ok(org.api.get(org.path("/guests"), params={"sort": "-created_at"}))
    assert [g["email"] for g in newest] == emails[::-1]
    by_email = ok(org.api.get(org.path("/guests"), params={"sort_by": "email"}))
    assert [g["email"] for g in by_email] == sorted(emails)
    odd = ok(org.api.get(org.path("/guests"), params={"sort": "nonsense"}))
    assert [g["email"] for g in odd] == emails
    found = ok(org.api.get(org.path("/guests"), params={"q": "EXAMPLE.com"}))
    assert [g["email"] for g in found] == emails[:2]
    assert ok(org.api.get(org.path("/guests"), params={"q": "%"})) == []
    page = org.api.get(org.path("/guests"), params={"per_page": 2, "page": 2})
    assert [g["email"] for g in ok(page)] == emails[2:]
    meta = page.json()["meta"]["pagination"]
    assert (meta["current_page"], meta["total_pages"], meta["count"]) == (2, 2, 1)
    assert "previous" in meta["links"] and "next" not in meta["links"]
    whole = org.api.get(org.path("/guests"), params={"per_page": 1, "without_pagination": "true"})
    assert len(ok(whole)) == 3
    assert (
        org.api.get(org.path("/guests"), params={"per_page": 5000}).json()["meta"]["pagination"][
            "per_page"
        ]
        == 999
    )


def test_list_guests_with_stats(org: Org) -> None:
    guest(org)
    plain = ok(org.api.get(org.path("/guests")))
    assert "stats" not in plain[0]
    with_stats = ok(org.api.get(org.path("/guests"), params={"with": "stats"}))
    assert with_stats[0]["stats"]["assigned_tasks"] == 0


def test_guests_list_is_minimal_without_meta(org: Org) -> None:
    first, second = guest(org), guest(org, first_name="Katherine", last_name="Johnson")
    removed = guest(org)
    ok(org.api.delete(org.path(f"/guests/{removed['email']}")))
    body = org.api.get(org.path("/guests-list"))
    assert body.status_code == 200
    assert set(body.json()) == {"data"}  # no meta: the SDK crashes on `meta: null`
    assert body.json()["data"] == [
        {
            "id": g["id"],
            "email": g["email"],
            "first_name": g["first_name"],
            "last_name": g["last_name"],
            "link": g["link"],
        }
        for g in (first, second)
    ]


def test_light_members_can_read_guests(org: Org) -> None:
    made = guest(org)
    _, light = org.member("light")
    with light:
        assert [g["id"] for g in ok(light.get(org.path("/guests")))] == [made["id"]]
        assert ok(light.get(org.path(f"/guests/{made['email']}")))["id"] == made["id"]


def test_routes_answer_without_the_api_prefix(org: Org) -> None:
    made = guest(org)
    with org.server.client(org.token, prefix="") as bare:
        assert ok(bare.get(org.path(f"/guests/{encoded(made['email'])}")))["link"] == (
            f"{org.server.base}/app/guest/{code_of(made)}"
        )
