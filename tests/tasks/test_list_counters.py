"""Task list totals come from counters the database keeps, and a member's page from their
assignment rows: after every kind of change they must equal what counting the tasks gives. A
`created` range covering every task sends the same list down the counting path, so each answer
is compared with the one counted the old way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from checkrun.kit.clock import now
from checkrun.tasks.counts import FOLD_AFTER, FOLD_SOON, fold_due
from tests.conftest import LiveServer, Org, live_server, new_org
from tests.scheduler.conftest import eventually
from tests.support.factories import db_count, ok, one_off_task, run
from tests.support.outbox import in_session

EVERYTHING = "created=2000-01-01:2099-12-31"
LISTS = ["/tasks", "/me/tasks", "/users/{member}/tasks"]
FILTERS = ["", "status=completed", "status=active", "archived=only", "archived=true", "page=2"]


def _answer(org: Org, path: str, query: str) -> tuple[int, list[str]]:
    body = org.api.get(org.path(path) + "?" + query)
    assert body.status_code == 200, body.text
    data: dict[str, Any] = body.json()
    return data["meta"]["pagination"]["total"], [t["id"] for t in data["data"]]


RUN_LISTS = {
    "": "deleted_at IS NULL",
    "status=active": "deleted_at IS NULL AND status = 'active'",
    "status=completed": "deleted_at IS NULL AND status = 'complete'",
    "archived=only": "deleted_at IS NOT NULL",
    "archived=true": "1 = 1",
}


def assert_runs_agree(org: Org) -> None:
    for query, where in RUN_LISTS.items():
        total = _answer(org, "/runs", f"per_page=1&{query}")[0]
        assert total == db_count(org, "runs", f"org_id = :o AND {where}", o=org.id), query


def assert_lists_agree(org: Org, member: int) -> None:
    assert_runs_agree(org)
    for path in LISTS:
        path = path.format(member=member)
        for query in FILTERS:
            fast = _answer(org, path, f"per_page=3&{query}")
            counted = _answer(org, path, f"per_page=3&{query}&{EVERYTHING}")
            assert fast == counted, (path, query)


def test_totals_and_pages_follow_every_change(org: Org) -> None:
    member, client = org.member("standard")
    mine = [one_off_task(org, title=f"Admin {i}") for i in range(4)]
    both = one_off_task(org, title="Both", owners={"users": [org.admin_id, member]})
    theirs = [one_off_task(org, title=f"Member {i}", owners={"users": [member]}) for i in range(3)]
    launched = run(org)
    run(org)
    assert_lists_agree(org, member)
    assert _answer(org, f"/users/{member}/tasks", "")[0] == 4

    ok(org.api.post(org.path("/completed-tasks"), json={"task_id": mine[0]["id"]}))
    ok(org.api.post(org.path("/completed-tasks"), json={"task_id": both["id"]}))
    assert_lists_agree(org, member)

    ok(org.api.delete(org.path(f"/completed-tasks/{both['id']}")))
    ok(org.api.delete(org.path(f"/tasks/{mine[1]['id']}")))  # archived
    assert_lists_agree(org, member)

    body = {
        "title": "Moved",
        "deadline": "2030-01-01T12:00:00Z",
        "owners": {"users": [member], "guests": [], "groups": []},
    }
    ok(org.api.put(org.path(f"/tasks/{mine[2]['id']}"), json=body))
    ok(org.api.put(org.path(f"/tasks/{mine[1]['id']}/restore")))
    assert_lists_agree(org, member)

    ok(org.api.delete(org.path(f"/tasks/{theirs[0]['id']}")))
    assert org.api.delete(org.path(f"/tasks/{theirs[0]['id']}/delete")).status_code == 204
    ok(org.api.delete(org.path(f"/runs/{launched['id']}")))  # archives the run and its tasks
    assert_lists_agree(org, member)
    assert _answer(org, f"/users/{member}/tasks", "")[0] == 4

    ok(org.api.delete(org.path(f"/users/{member}")))  # their open tasks go to the admin
    client.close()
    assert _answer(org, "/me/tasks", "")[0] == _answer(org, "/me/tasks", EVERYTHING)[0]
    assert _answer(org, "/tasks", "")[0] == _answer(org, "/tasks", EVERYTHING)[0]


def test_the_scheduler_folds_a_long_history_and_totals_stay_exact(org: Org) -> None:
    for i in range(FOLD_AFTER + 6):
        one_off_task(org, title=f"Folded {i}")
    before = {path: _answer(org, path, "per_page=1")[0] for path in ("/tasks", "/me/tasks")}
    rows = "org_id = :o AND kind = 'org'"
    assert db_count(org, "task_counts", rows, o=org.id) > FOLD_AFTER

    folded = in_session(org.server, lambda db: fold_due(db, now(), org.server.settings))
    assert folded >= 1
    assert db_count(org, "task_counts", rows, o=org.id) <= 4  # one row per (status, live)
    after = {path: _answer(org, path, "per_page=1")[0] for path in ("/tasks", "/me/tasks")}
    assert after == before
    assert after["/tasks"] == db_count(org, "tasks", "org_id = :o AND deleted_at IS NULL", o=org.id)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def slow_scheduler(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server whose scheduler polls once an hour: only a wake-up can explain a fold."""
    data = tmp_path_factory.mktemp(f"counts-{request.param}")
    with live_server(request.param, data, scheduler_poll_seconds=3600) as live:
        yield live


def _history(org: Org, pairs: int) -> str:
    """`pairs` rows of +1 and as many of -1 under the organization's key, in one statement:
    a long history that nets to nothing at every moment."""
    return (
        f"WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {pairs}) "
        "INSERT INTO task_counts (org_id, kind, ref, status, live, n) "
        f"SELECT '{org.id}', 'org', '', 'not-started', TRUE, 1 FROM k "
        f"UNION ALL SELECT '{org.id}', 'org', '', 'not-started', TRUE, -1 FROM k"
    )


def test_a_read_summing_a_long_history_has_it_folded_at_once(slow_scheduler: LiveServer) -> None:
    """Many changes between two polls (a bulk of launches): the read that sums them wakes the
    scheduler, which folds them; the total never moves."""
    with new_org(slow_scheduler) as org:
        one_off_task(org)
        total = _answer(org, "/tasks", "per_page=1")[0]
        slow_scheduler.execute(_history(org, FOLD_SOON))
        rows = "org_id = :o AND kind = 'org'"
        # (Another server of this test process may wake every scheduler in it meanwhile: the
        # fold can come sooner, never later.)
        assert _answer(org, "/tasks", "per_page=1")[0] == total
        eventually(lambda: db_count(org, "task_counts", rows, o=org.id) <= 4, what="the fold")
        assert _answer(org, "/tasks", "per_page=1")[0] == total
