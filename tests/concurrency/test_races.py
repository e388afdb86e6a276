"""An update racing a delete of the same row: whichever wins, the loser gets the answer the
serial order gives it (404 once the row is gone, 409 for a conflict), never a 500."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from tests.concurrency.conftest import Answer, burst
from tests.conftest import Org
from tests.support.factories import checklist, group, ok, one_off_task, run, tag

PAIRS = 10  # rows raced at once, each by one update and one delete
Pair = tuple[str, str, Any, str, str]  # update method, path, body, delete method, path


def race(org: Org, pairs: list[Pair]) -> list[tuple[Answer, Answer]]:
    def call(method: str, path: str, body: Any = None) -> Callable[[httpx.Client], Any]:
        return lambda client: client.request(method, org.path(path), json=body)

    calls = []
    for put, put_path, body, delete, delete_path in pairs:
        calls += [(org.token, call(put, put_path, body)), (org.token, call(delete, delete_path))]
    answers = burst(org.server.api, calls)
    return list(zip(answers[::2], answers[1::2], strict=True))


def check(results: list[tuple[Answer, Answer]], updated: set[int], deleted: set[int]) -> None:
    """Every update either went first or lost to the delete (404/409); every delete went
    through, found the row gone or lost to the update (409)."""
    wrong = [
        (u.status, u.body, d.status, d.body)
        for u, d in results
        if u.status not in updated | {404, 409}
        or d.status not in deleted | {404, 409}
        or (u.status == 404 and u.body.get("code") != "RESOURCE_NOT_FOUND")
    ]
    assert not wrong, f"{len(wrong)} of {len(results)} pairs: {wrong}"


def unique() -> str:
    return uuid.uuid4().hex[:8]


def test_groups_updated_while_deleted(org: Org) -> None:
    ids = [group(org) for _ in range(PAIRS)]
    check(
        race(
            org,
            [
                (
                    "PUT",
                    f"/groups/{i}",
                    {"name": f"G {unique()}", "members": [org.admin_id]},
                    "DELETE",
                    f"/groups/{i}",
                )
                for i in ids
            ],
        ),
        {201},
        {204},
    )


def test_tags_updated_while_deleted(org: Org) -> None:
    ids = [tag(org) for _ in range(PAIRS)]
    check(
        race(
            org,
            [
                ("PUT", f"/tags/{i}", {"title": f"t-{unique()}"}, "DELETE", f"/tags/{i}")
                for i in ids
            ],
        ),
        {200},
        {204},
    )


def test_folders_updated_while_deleted(org: Org) -> None:
    ids = [
        ok(org.api.post(org.path("/folders"), json={"name": f"F {unique()}"}), 201)["id"]
        for _ in range(PAIRS)
    ]
    check(
        race(
            org,
            [
                ("PUT", f"/folders/{i}", {"name": f"F {unique()}"}, "DELETE", f"/folders/{i}")
                for i in ids
            ],
        ),
        {200},
        {204},
    )


def test_comments_updated_while_deleted(org: Org) -> None:
    task = one_off_task(org)
    base = f"/tasks/{task['id']}/comment"
    ids = [
        ok(org.api.post(org.path(base), json={"content": "Hello"}), 201)["id"] for _ in range(PAIRS)
    ]
    check(
        race(
            org,
            [("PUT", f"{base}/{i}", {"content": "Edited"}, "DELETE", f"{base}/{i}") for i in ids],
        ),
        {200},
        {204},
    )


def test_steps_updated_while_deleted(org: Org) -> None:
    template = checklist(org, steps=PAIRS)
    base = f"/checklists/{template['id']}/steps"
    steps = ok(org.api.get(org.path(base), params={"per_page": PAIRS}))
    check(
        race(
            org,
            [
                ("PUT", f"{base}/{s['id']}", {"title": "Renamed"}, "DELETE", f"{base}/{s['id']}")
                for s in steps
            ],
        ),
        {200},
        {200, 204},
    )


def test_runs_updated_while_deleted(org: Org) -> None:
    template = checklist(org, steps=1)
    ids = [run(org, template["id"])["id"] for _ in range(PAIRS)]
    check(
        race(
            org,
            [
                ("PUT", f"/runs/{i}", {"name": "Renamed"}, "DELETE", f"/runs/{i}/delete")
                for i in ids
            ],
        ),
        {200},
        {200},
    )


def test_runs_updated_while_archived(org: Org) -> None:
    """The serial order's answer for an update after archiving is the 422 for archived runs."""
    template = checklist(org, steps=1)
    ids = [run(org, template["id"])["id"] for _ in range(PAIRS)]
    check(
        race(
            org, [("PUT", f"/runs/{i}", {"name": "Renamed"}, "DELETE", f"/runs/{i}") for i in ids]
        ),
        {200, 422},
        {200},
    )


def test_role_changed_while_converted_to_guest(org: Org) -> None:
    members = [org.member("standard") for _ in range(PAIRS)]
    for _, client in members:
        client.close()
    check(
        race(
            org,
            [
                ("PUT", f"/users/{i}/role", {"role": "light"}, "PUT", f"/users/{i}/to/guest")
                for i, _ in members
            ],
        ),
        {200},
        {200},
    )
