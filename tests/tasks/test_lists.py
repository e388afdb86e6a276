"""Task lists (`/tasks`, `/me/tasks`, `/users/{id}/tasks`, `/runs/{id}/tasks`): filters,
sorting, includes, and refusals of filters that can't mean anything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Org
from tests.support.factories import checklist, group, ids, ok, one_off_task, run


def listed(org: Org, path: str = "/tasks", **params: Any) -> list[str]:
    return ids(ok(org.api.get(org.path(path), params={"per_page": 100, **params})))


def soon(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def complete(org: Org, task: dict[str, Any]) -> None:
    ok(org.api.post(org.path("/completed-tasks"), json={"task_id": task["id"]}))


def test_status_aliases(org: Org) -> None:
    fresh = one_off_task(org, title="Fresh")
    done = one_off_task(org, title="Done")
    reopened = one_off_task(org, title="Reopened")
    for task in (done, reopened):
        complete(org, task)
    ok(org.api.delete(org.path(f"/completed-tasks/{reopened['id']}")))
    open_ones = sorted([fresh["id"], reopened["id"]])
    for status in ("complete", "completed"):
        assert listed(org, status=status) == [done["id"]]
    for status in ("active", "incomplete"):
        assert sorted(listed(org, status=status)) == open_ones
    for status in ("inprogress", "in-progress"):
        assert listed(org, status=status) == [reopened["id"]]
    assert listed(org, status="not-started") == [fresh["id"]]
    assert listed(org, status="hasproblem") == []
    assert len(listed(org, status="all")) == 3


def test_deadline_statuses(org: Org) -> None:
    overdue = one_off_task(org, deadline="2020-01-01T00:00:00Z")
    due_soon = one_off_task(org, deadline=soon(24))
    one_off_task(org, deadline=soon(24 * 7))
    complete(org, one_off_task(org, deadline="2020-01-01T00:00:00Z"))
    assert listed(org, status="overdue") == [overdue["id"]]
    assert listed(org, status="due_soon") == [due_soon["id"]]


def test_unknown_status_or_owners_is_422(org: Org) -> None:
    for params, key in (
        ({"status": "sleeping"}, "status"),
        ({"owners": "1,x"}, "owners"),
        ({"deadline_before": "soon"}, "deadline_before"),
        ({"deadline_on": "9999-12-31"}, "deadline_on"),
        ({"created": "2030-01-01:nope"}, "created"),
    ):
        response = org.api.get(org.path("/tasks"), params=params)
        assert response.status_code == 422, (params, response.text)
        assert list(response.json()["errors"]) == [key]


def test_owners_unassigned_and_one_off_filters(org: Org) -> None:
    first_id, _ = org.member("standard")
    second_id, _ = org.member("standard")
    mine = one_off_task(org, owners={"users": [first_id]})
    theirs = one_off_task(org, owners={"users": [second_id]})
    guest_only = one_off_task(org, owners={"guests": ["g@example.com"]})
    launched = run(org, checklist(org, steps=1)["id"])
    (process_task,) = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
    assert sorted(listed(org, owners=f"{first_id},{second_id}")) == sorted(
        [mine["id"], theirs["id"]]
    )
    ok(
        org.api.put(
            org.path(f"/runs/{launched['id']}/tasks/{process_task['id']}"),
            json={"owners": {"users": []}},
        )
    )
    assert listed(org, unassigned="true") == [process_task["id"]]
    assert sorted(listed(org, is_oneoff="true")) == sorted(
        [mine["id"], theirs["id"], guest_only["id"]]
    )
    assert listed(org, is_oneoff="false") == [process_task["id"]]


def test_q_matches_the_title_or_the_process_name(org: Org) -> None:
    launched = run(org, checklist(org, steps=1)["id"], name="Acme onboarding")
    (in_run,) = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
    titled = one_off_task(org, title="Call ACME")
    one_off_task(org, title="Unrelated")
    assert sorted(listed(org, q="acme")) == sorted([in_run["id"], titled["id"]])
    assert listed(org, q="100%") == []


def test_deadline_and_created_filters(org: Org) -> None:
    early = one_off_task(org, deadline="2030-01-01T09:00:00Z")
    late = one_off_task(org, deadline="2030-01-02T18:00:00Z")
    later = one_off_task(org, deadline="2030-01-05T00:00:00Z")
    assert listed(org, deadline_on="2030-01-02") == [late["id"]]
    assert listed(org, deadline_before="2030-01-02") == [early["id"]]
    assert listed(org, deadline_after="2030-01-02") == [later["id"]]
    assert listed(org, deadline_after="2030-01-02T17:00:00Z", sort="deadline") == [
        late["id"],
        later["id"],
    ]
    assert listed(
        org, deadline_start_range="2030-01-01", deadline_end_range="2030-01-02", sort="deadline"
    ) == [early["id"], late["id"]]
    # `deadline_on` wins over the others.
    assert listed(org, deadline_on="2030-01-05", deadline_before="2030-01-02") == [later["id"]]
    day = early["created_at"][:10]
    assert len(listed(org, created=day)) == 3
    assert len(listed(org, created=f"2001-01-01:{day}")) == 3
    assert listed(org, created="2001-01-01") == []


def test_sorts(org: Org) -> None:
    a = one_off_task(org, deadline="2030-01-03T00:00:00Z")
    b = one_off_task(org, deadline="2030-01-01T00:00:00Z")
    c = one_off_task(org, deadline="2030-01-02T00:00:00Z")
    assert listed(org, sort="deadline") == [b["id"], c["id"], a["id"]]
    assert listed(org, sort="-deadline") == [a["id"], c["id"], b["id"]]
    assert listed(org, sort="newest") == [c["id"], b["id"], a["id"]]
    assert listed(org, sort_by="newest") == [c["id"], b["id"], a["id"]]
    complete(org, a)
    complete(org, b)
    assert listed(org, status="completed", sort="completed_newest") == [b["id"], a["id"]]


def test_run_tasks_sort_and_filters(org: Org) -> None:
    launched = run(org, checklist(org, steps=3)["id"])
    first, second, third = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
    path = f"/runs/{launched['id']}/tasks"
    assert listed(org, path, sort="-position") == [third["id"], second["id"], first["id"]]
    ok(
        org.api.post(
            org.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": second["id"]}
        )
    )
    assert listed(org, path, status="complete") == [second["id"]]
    assert listed(org, path, status="active_visible") == [first["id"], third["id"]]


def test_me_tasks_lists_open_tasks_unless_asked(org: Org) -> None:
    member_id, member = org.member("light")
    done = one_off_task(org, owners={"users": [member_id]})
    open_task = one_off_task(org, owners={"users": [member_id]})
    one_off_task(org)
    complete(org, done)
    with member:
        assert ids(ok(member.get(org.path("/me/tasks")))) == [open_task["id"]]
        assert sorted(
            ids(ok(member.get(org.path("/me/tasks"), params={"status": "all"})))
        ) == sorted([done["id"], open_task["id"]])
        assert ids(ok(member.get(org.path("/me/tasks"), params={"status": "completed"}))) == [
            done["id"]
        ]
    assert sorted(listed(org, f"/users/{member_id}/tasks")) == sorted([done["id"], open_task["id"]])
    assert org.api.get(org.path("/users/abc/tasks")).status_code == 404


def test_run_and_step_includes(org: Org) -> None:
    template = checklist(org, steps=1)
    launched = run(org, template["id"], name="With includes")
    loose = one_off_task(org)
    reads = {
        t["id"]: t for t in ok(org.api.get(org.path("/tasks"), params={"with": "run,step,tags"}))
    }
    (process_task,) = [t for t in reads.values() if t["run_id"]]
    assert process_task["run"]["data"]["name"] == "With includes"
    assert process_task["run"]["data"]["id"] == launched["id"]
    assert process_task["step"]["data"]["id"] == process_task["step_id"]
    assert process_task["step"]["data"]["captures"] == []
    assert reads[loose["id"]]["run"] == {"data": None}
    assert reads[loose["id"]]["step"] == {"data": None}
    assert reads[loose["id"]]["tags"] == {"data": []}


@pytest.mark.parametrize("path", ["/tasks", "/me/tasks"])
def test_without_pagination(org: Org, path: str) -> None:
    for _ in range(11):
        one_off_task(org)
    assert len(ok(org.api.get(org.path(path)))) == 10
    assert len(ok(org.api.get(org.path(path), params={"without_pagination": "true"}))) == 11


def test_guests_and_groups_filters(org: Org) -> None:
    team, other = group(org), group(org)
    to_guest = one_off_task(org, owners={"guests": ["Client@Example.com"]})
    to_team = one_off_task(org, owners={"groups": [team]})
    to_other = one_off_task(org, owners={"groups": [other]})
    one_off_task(org)
    assert listed(org, guests="client@example.com") == [to_guest["id"]]
    assert listed(org, groups=team) == [to_team["id"]]
    assert set(listed(org, groups=f"{team},{other}")) == {to_team["id"], to_other["id"]}
    assert listed(org, groups="0" * 32) == []


def owners_listed(org: Org, path: str, task_id: str, **params: Any) -> dict[str, Any]:
    answer = ok(org.api.get(org.path(path), params={"per_page": 100, **params}))
    return next(t["owners"] for t in answer if t["id"] == task_id)


@pytest.mark.parametrize("path", ["/tasks", "/me/tasks", "/tasks?status=active"])
def test_lists_name_members_beside_the_groups_and_guests_they_share_a_task_with(
    org: Org, path: str
) -> None:
    member_id, _ = org.member("standard")
    team = group(org)
    owners = {"users": [member_id, org.admin_id], "groups": [team], "guests": ["c@example.com"]}
    task = one_off_task(org, owners=owners)
    assert owners_listed(org, path, task["id"]) == {
        "users": [
            {"id": member_id, "full_name": "Standard Member", "profile_pic": None},
            {"id": org.admin_id, "full_name": "Admin User", "profile_pic": None},
        ],
        "groups": [team],
        "guests": ["c@example.com"],
    }


def test_list_totals_come_with_the_page_and_past_its_end(org: Org) -> None:
    made = [one_off_task(org) for _ in range(3)]
    complete(org, made[0])
    ok(org.api.delete(org.path(f"/tasks/{made[1]['id']}")))  # archived
    for path, params, total in [
        ("/tasks", {}, 2),
        ("/tasks", {"status": "active"}, 1),
        ("/tasks", {"archived": "only"}, 1),
        ("/tasks", {"archived": "true"}, 3),
        ("/me/tasks", {}, 1),
        ("/me/tasks", {"status": "all"}, 2),
    ]:
        for page in (1, 5):
            answer = org.api.get(org.path(path), params={**params, "per_page": 1, "page": page})
            assert answer.status_code == 200, answer.text
            assert answer.json()["meta"]["pagination"]["total"] == total, (path, params, page)
