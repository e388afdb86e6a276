"""Guests and tasks: assigning an email makes a guest, a guest's task list, stats, removal
detaching them, and the conversions between guest and member."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import Org
from tests.guests.conftest import Recorder, address, guest, refused
from tests.support.factories import checklist, ok, one_off_task, run

NOT_FOUND = {"error": True, "message": "Resource not found", "code": "RESOURCE_NOT_FOUND"}


def code_of(made: dict[str, Any]) -> str:
    return str(made["link"].rsplit("/guest/", 1)[1])


def guest_tasks(org: Org, key: str, **params: Any) -> list[str]:
    listed = ok(org.api.get(org.path(f"/guests/{key}/tasks"), params=params))
    return [t["id"] for t in listed]


def task_owners(org: Org, task_id: str) -> dict[str, list[Any]]:
    owners: dict[str, list[Any]] = ok(org.api.get(org.path(f"/tasks/{task_id}")))["owners"]
    return owners


# --- assignment makes guests ---------------------------------------------------------------------


def test_assigning_a_new_email_makes_a_guest(org: Org, recorded: Recorder) -> None:
    email = address("New")
    task = one_off_task(org, owners={"guests": [email]})
    assert task["owners"]["guests"] == [email.lower()]
    made = ok(org.api.get(org.path(f"/guests/{email}")))
    assert made["email"] == email.lower() and made["first_name"] is None
    one_off_task(org, owners={"guests": [email.upper()]})
    assert len(ok(org.api.get(org.path("/guests")))) == 1
    assert recorded.of(org) == [("invited", str(made["id"]))]


def test_updating_owners_makes_guests_and_brings_removed_ones_back(org: Org) -> None:
    made = guest(org)
    ok(org.api.delete(org.path(f"/guests/{made['email']}")))
    task = one_off_task(org)
    newcomer = address()
    body = {
        "title": task["title"],
        "deadline": task["deadline"],
        "owners": {"users": [org.admin_id], "guests": [made["email"], newcomer]},
    }
    ok(org.api.put(org.path(f"/tasks/{task['id']}"), json=body))
    back = ok(org.api.get(org.path(f"/guests/{made['email']}")))
    assert back["id"] == made["id"] and back["deleted_at"] is None
    assert ok(org.api.get(org.path(f"/guests/{newcomer}")))["email"] == newcomer


def test_a_members_email_is_not_a_guest_assignee(org: Org) -> None:
    response = org.api.post(
        org.path("/tasks"),
        json={
            "title": "Sign",
            "task_type": "task",
            "deadline": "2030-01-01T12:00:00Z",
            "owners": {"guests": ["fine@example.com", org.admin_email.upper()]},
        },
    )
    body = refused(response, 422)
    assert list(body["errors"]) == ["owners.guests.1"]
    assert ok(org.api.get(org.path("/guests"))) == []
    assert ok(org.api.get(org.path("/tasks"))) == []


def test_launch_makes_guests_of_step_and_override_guests(org: Org) -> None:
    template = checklist(org, steps=0)
    step_guest, override_guest = address("step"), address("override")
    first = ok(
        org.api.post(
            org.path(f"/checklists/{template['id']}/steps"),
            json={"title": "Review", "guests": [step_guest]},
        ),
        201,
    )
    second = ok(
        org.api.post(org.path(f"/checklists/{template['id']}/steps"), json={"title": "Sign"}), 201
    )
    launched = run(
        org, template["id"], tasks={second["id"]: {"owners": {"guests": [override_guest]}}}
    )
    emails = {g["email"] for g in ok(org.api.get(org.path("/guests")))}
    assert emails == {step_guest, override_guest}
    tasks = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
    by_step = {t["step_id"]: t["owners"]["guests"] for t in tasks}
    assert by_step == {first["id"]: [step_guest], second["id"]: [override_guest]}
    refused_launch = org.api.post(
        org.path("/runs"),
        json={
            "checklist_id": template["id"],
            "tasks": {second["id"]: {"owners": {"guests": [org.admin_email]}}},
        },
    )
    assert list(refused(refused_launch, 422)["errors"]) == ["owners.guests.0"]


# --- a guest's tasks -----------------------------------------------------------------------------


def test_guest_tasks_by_code_or_email(org: Org) -> None:
    email = f"grace+{address()}"
    made = guest(org, email)
    mine = one_off_task(org, title="Sign the NDA", owners={"guests": [email]})
    shared = one_off_task(org, title="Both", owners={"users": [org.admin_id], "guests": [email]})
    one_off_task(org, title="Not hers")
    assert guest_tasks(org, code_of(made)) == [shared["id"], mine["id"]]
    assert guest_tasks(org, quote(email, safe="")) == [shared["id"], mine["id"]]
    assert guest_tasks(org, email.upper()) == [shared["id"], mine["id"]]
    assert guest_tasks(org, code_of(made), sort_by="-newest") == [mine["id"], shared["id"]]
    assert guest_tasks(org, code_of(made), per_page=1, page=2) == [mine["id"]]
    ok(org.api.post(org.path("/completed-tasks"), json={"task_id": mine["id"]}))
    assert guest_tasks(org, code_of(made), status="completed") == [mine["id"]]
    assert guest_tasks(org, code_of(made), status="all") == [shared["id"], mine["id"]]
    listed = ok(
        org.api.get(
            org.path(f"/guests/{code_of(made)}/tasks"),
            params={"with": "run", "sort_by": "newest", "status": "all"},
        )
    )
    assert listed[0]["run"] == {"data": None}
    assert listed[0]["owners"]["guests"] == [email]


def test_guest_tasks_refusals(org: Org) -> None:
    made = guest(org)
    assert refused(org.api.get(org.path("/guests/NoSuchCode/tasks")), 404) == NOT_FOUND
    assert refused(org.api.get(org.path("/guests/nobody@example.com/tasks")), 404) == NOT_FOUND
    bad = org.api.get(org.path(f"/guests/{code_of(made)}/tasks"), params={"status": "weird"})
    assert list(refused(bad, 422)["errors"]) == ["status"]
    ok(org.api.delete(org.path(f"/guests/{made['email']}")))
    assert refused(org.api.get(org.path(f"/guests/{code_of(made)}/tasks")), 404) == NOT_FOUND


def test_guest_stats_count_their_tasks(org: Org) -> None:
    made = guest(org)
    one = one_off_task(org, owners={"guests": [made["email"]]})
    one_off_task(org, owners={"guests": [made["email"]]})
    archived = one_off_task(org, owners={"guests": [made["email"]]})
    ok(org.api.delete(org.path(f"/tasks/{archived['id']}")))
    completed = ok(org.api.post(org.path("/completed-tasks"), json={"task_id": one["id"]}))
    stats = ok(org.api.get(org.path(f"/guests/{made['email']}"), params={"with": "stats"}))["stats"]
    assert stats == {
        "assigned_tasks": 2,
        "tasks_completed": 1,
        "last_task_completed_at": completed["completed_at"],
        "one_off_tasks_completed": 1,
        "last_one_off_task_completed_at": completed["completed_at"],
    }


def test_removing_a_guest_detaches_them_from_every_task(org: Org) -> None:
    made = guest(org)
    task = one_off_task(org, owners={"users": [org.admin_id], "guests": [made["email"]]})
    template = checklist(org, steps=0)
    ok(
        org.api.post(
            org.path(f"/checklists/{template['id']}/steps"),
            json={"title": "Review", "guests": [made["email"]]},
        ),
        201,
    )
    launched = run(org, template["id"])
    theirs = org.server.new_org()
    with org.server.client(theirs.token) as them:
        their_task = ok(
            them.post(
                f"/organizations/{theirs.org_id}/tasks",
                json={
                    "title": "Theirs",
                    "task_type": "task",
                    "deadline": "2030-01-01T12:00:00Z",
                    "owners": {"guests": [made["email"]]},
                },
            ),
            201,
        )
        ok(org.api.delete(org.path(f"/guests/{made['email']}")))
        assert task_owners(org, task["id"]) == {"users": [org.admin_id], "guests": [], "groups": []}
        run_tasks = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
        assert [t["owners"]["guests"] for t in run_tasks] == [[]]
        assert ok(them.get(f"/organizations/{theirs.org_id}/tasks/{their_task['id']}"))["owners"][
            "guests"
        ] == [made["email"]]


# --- conversions ---------------------------------------------------------------------------------


def test_guest_to_member(org: Org, recorded: Recorder) -> None:
    made = guest(org, first_name="Grace" * 10)
    task = one_off_task(org, owners={"users": [org.admin_id], "guests": [made["email"]]})
    converted = ok(
        org.api.post(
            org.path(f"/guests/{quote(made['email'], safe='')}/to/member"),
            json={"role": "standard"},
        )
    )
    assert converted["email"] == made["email"]
    assert (converted["role"], converted["status"]) == ("standard", "active")
    assert len(converted["first_name"]) == 32
    assert task_owners(org, task["id"]) == {
        "users": [org.admin_id, converted["id"]],
        "guests": [],
        "groups": [],
    }
    assert refused(org.api.get(org.path(f"/guests/{made['email']}")), 404) == NOT_FOUND
    assert refused(org.api.post(org.path("/guests"), json={"email": made["email"]}), 422)
    assert ("deleted", str(made["id"])) in recorded.of(org)
    assert recorded.of(org, "User") == [("created", str(converted["id"]))]


def test_guest_to_member_defaults_to_light(org: Org) -> None:
    made = guest(org)
    converted = ok(org.api.post(org.path(f"/guests/{made['email']}/to/member")))
    assert converted["role"] == "light"


def test_guest_to_member_refusals(org: Org) -> None:
    made = guest(org)
    path = org.path(f"/guests/{made['email']}/to/member")
    assert refused(org.api.post(org.path("/guests/nobody@example.com/to/member")), 404)
    assert list(refused(org.api.post(path, json={"role": "owner"}), 422)["errors"]) == ["role"]
    _, standard = org.member("standard")
    with standard:
        assert refused(standard.post(path), 403)
    assert ok(org.api.get(org.path(f"/guests/{made['email']}")))["deleted_at"] is None


def test_member_to_guest(org: Org, recorded: Recorder) -> None:
    email = address("member")
    member = ok(
        org.api.post(
            f"/applications/{org.id}/users",
            json={"email": email, "first_name": "Ada", "last_name": "Lovelace", "role": "standard"},
        ),
        201,
    )
    token = ok_token(org, email)
    task = one_off_task(org, owners={"users": [org.admin_id, member["id"]]})
    converted = ok(org.api.put(org.path(f"/users/{member['id']}/to/guest")))
    assert converted["email"] == email
    assert (converted["first_name"], converted["last_name"]) == ("Ada", "Lovelace")
    assert task_owners(org, task["id"]) == {
        "users": [org.admin_id],
        "guests": [email],
        "groups": [],
    }
    assert [t["id"] for t in ok(org.api.get(org.path(f"/guests/{code_of(converted)}/tasks")))] == [
        task["id"]
    ]
    with org.server.client(token) as former:  # their tokens for this organization are revoked
        assert refused(former.get(org.path("/tasks")), 401)
    assert recorded.of(org) == [("invited", str(converted["id"]))]
    assert recorded.of(org, "User") == [("deleted", str(member["id"]))]
    # Now a guest, not a member: the address can be assigned as a guest.
    one_off_task(org, owners={"guests": [email]})


def ok_token(org: Org, email: str) -> str:
    answer = org.api.post(f"/applications/{org.id}/users/{email}/token")
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


@pytest.mark.parametrize("user_id", ["999999", "abc", "0"])
def test_member_to_guest_of_unknown_user_is_404(org: Org, user_id: str) -> None:
    assert refused(org.api.put(org.path(f"/users/{user_id}/to/guest")), 404) == NOT_FOUND


def test_member_to_guest_refusals(org: Org) -> None:
    body = refused(org.api.put(org.path(f"/users/{org.admin_id}/to/guest")), 400)
    assert "default administrator" in body["message"]
    member_id, standard = org.member("standard")
    other_id, _ = org.member("light")
    with standard:
        assert refused(standard.put(org.path(f"/users/{other_id}/to/guest")), 403)
    assert ok(org.api.get(org.path("/guests"))) == []
    theirs = org.server.new_org()
    assert refused(org.api.put(org.path(f"/users/{theirs.user_id}/to/guest")), 404)
    assert member_id != other_id
