"""Input the database can't hold or that can't be an id: a clear 4xx, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Org
from tests.support.factories import checklist, one_off_task, run

TOO_BIG = 2**31
HUGE_NUMBER = "9" * 5000


@pytest.mark.parametrize(
    "path, status",
    [
        ("/users/²/tasks", 404),
        (f"/users/{TOO_BIG}/tasks", 404),
        (f"/users/{HUGE_NUMBER}/tasks", 404),
        (f"/tasks?owners={HUGE_NUMBER}", 422),
        ("/tasks?owners=%C2%B2", 422),
        (f"/runs?owners={TOO_BIG}", 422),
        ("/runs?owners=-1", 422),
        ("/tasks?deadline_after=0001-01-01", 422),
        ("/tasks?created=2030-02-30", 422),
        ("/tasks?status=%00", 422),
    ],
)
def test_bad_list_parameters(org: Org, path: str, status: int) -> None:
    response = org.api.get(org.path(path))
    assert response.status_code == status, response.text


@pytest.mark.parametrize(
    "body, key",
    [
        ({"owner_id": TOO_BIG}, "owner_id"),
        ({"users": [TOO_BIG]}, "users.0"),
        ({"groups": ["g" * 300]}, "groups.0"),
        ({"tags": ["t" * 300]}, "tags.0"),
        ({"tasks": {"x": {"max_assignable": TOO_BIG}}}, "tasks.x.max_assignable"),
    ],
)
def test_bad_launch_values(org: Org, body: dict[str, Any], key: str) -> None:
    response = org.api.post(org.path("/runs"), json={"checklist_id": checklist(org)["id"], **body})
    assert response.status_code == 422, response.text
    assert list(response.json()["errors"]) == [key]


def test_bad_task_values(org: Org) -> None:
    base = {"title": "x", "task_type": "task", "deadline": "2030-01-01T00:00:00Z"}
    for extra, key in (
        ({"owners": {"users": [TOO_BIG]}}, "owners.users.0"),
        ({"owners": {"groups": ["g" * 300]}}, "owners.groups.0"),
        ({"owners": {"users": [1]}, "max_assignable": TOO_BIG}, "max_assignable"),
        ({"owners": {"users": [1]}, "position": 0}, "position"),
    ):
        response = org.api.post(org.path("/tasks"), json={**base, **extra})
        assert response.status_code == 422, response.text
        assert list(response.json()["errors"]) == [key]
    task = one_off_task(org)
    refused = org.api.post(
        org.path("/completed-tasks"), json={"task_id": task["id"], "override_user": TOO_BIG}
    )
    assert list(refused.json()["errors"]) == ["override_user"]
    launched = run(org)
    assert (
        org.api.put(org.path(f"/runs/{launched['id']}"), json={"users": [TOO_BIG]}).status_code
        == 422
    )
