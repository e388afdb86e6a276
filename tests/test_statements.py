"""Reads cost a fixed number of SQL statements, whatever the size of the page: a run with 3
tasks costs what a run with 20 costs, a page of 3 tasks what a page of 20 costs, for every
include. The server runs in this process; its engine's statements are counted per request
(`before_cursor_execute`) and sent back in a response header by a wrapper of the app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.conftest import LiveServer, Org, live_server, new_org
from tests.snapshots.reads import RUN_INCLUDES, TASK_INCLUDES
from tests.support.factories import ok

HEADER = "x-test-statements"
SEEN: ContextVar[list[str] | None] = ContextVar("statements", default=None)
Asgi = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def counting(app: Asgi) -> Asgi:
    """The app, answering each request with the number of statements it ran in a header."""

    async def counted(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        seen: list[str] = []
        token = SEEN.set(seen)

        async def send_counted(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (HEADER.encode(), b"%d" % len(seen))]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await app(scope, receive, send_counted)
        finally:
            SEEN.reset(token)

    return counted


def _record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
    seen = SEEN.get()
    if seen is not None:
        seen.append(statement)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def counted_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    data: Path = tmp_path_factory.mktemp(f"statements-{request.param}")
    event.listen(Engine, "before_cursor_execute", _record)
    try:
        # No auth cache: a cached request spends no statement on its token, an expired entry two,
        # and the comparisons here are about what the reads themselves cost.
        with live_server(
            request.param, data, wrap=counting, rate_limit_per_minute=0, auth_cache_seconds=0
        ) as live:
            yield live
    finally:
        event.remove(Engine, "before_cursor_execute", _record)


class World:
    """An organization with runs of 3 and of 20 tasks, all the admin's, some tagged, filed and
    commented on."""

    def __init__(self, org: Org) -> None:
        self.org = org
        tag = ok(org.api.post(org.path("/tags"), json={"title": "t", "color": "#3366ff"}), 201)
        folder = ok(
            org.api.post(org.path("/folders"), json={"name": "F", "folder_type": "run"}), 201
        )
        self.small_template = self._template(3)
        self.big_template = big_template = self._template(20)
        extras = {"tags": [tag["id"]], "folders": [folder["id"]]}
        self.small = self._launch(self.small_template, **extras)
        self.big = self._launch(big_template, **extras)
        for _ in range(18):
            self._launch(self.small_template)
        for run_id in (self.small, self.big):
            ok(org.api.post(org.path(f"/runs/{run_id}/comment"), json={"content": "Hi"}), 201)
            tasks = ok(org.api.get(org.path(f"/runs/{run_id}/tasks")))
            for task in tasks[:2]:
                path = org.path(f"/tasks/{task['id']}")
                ok(org.api.post(path + "/comment", json={"content": "Look"}), 201)
            ok(
                org.api.post(org.path(f"/tasks/{tasks[0]['id']}/problem"), json={"content": "!"}),
                201,
            )
            self.first_task = str(tasks[0]["id"])
        # The first reader of a total after many changes folds the counters' change rows (a few
        # statements of its own): read each list once so that the measured reads do not.
        for listing in ("/tasks", "/me/tasks", "/runs"):
            ok(org.api.get(org.path(listing)))

    def _template(self, steps: int) -> str:
        org = self.org
        made = ok(
            org.api.post(org.path("/checklists"), json={"title": "T", "type": "procedure"}), 201
        )
        base = org.path(f"/checklists/{made['id']}/steps")
        for i in range(steps):
            body = {"title": f"Step {i}", "assignees": [org.admin_id]}
            step = ok(org.api.post(base, json=body), 201)
            if i == 0:
                field = {"label": "Name", "field_type": "text"}
                ok(org.api.post(f"{base}/{step['id']}/captures", json=field), 201)
        return str(made["id"])

    def _launch(self, template: str, **fields: Any) -> str:
        body = {"checklist_id": template, **fields}
        return str(ok(self.org.api.post(self.org.path("/runs"), json=body), 201)["id"])

    def statements(
        self, path: str, rows: int | None = None, *, with_: str | None = None, **params: Any
    ) -> int:
        if with_ is not None:
            params["with"] = with_
        answer = self.org.api.get(self.org.path(path), params=params)
        assert answer.status_code == 200, answer.text
        if rows is not None:
            assert len(answer.json()["data"]) == rows
        return int(answer.headers[HEADER])


@pytest.fixture(scope="module")
def world(counted_server: LiveServer) -> Iterator[World]:
    with new_org(counted_server) as org:
        yield World(org)


def test_the_statements_are_counted(world: World) -> None:
    # At least the token lookup and the run itself: the count is real.
    assert world.statements(f"/runs/{world.small}") >= 2


@pytest.mark.parametrize("include", ["", *RUN_INCLUDES])
def test_a_run_costs_the_same_with_3_or_20_tasks(world: World, include: str) -> None:
    small = world.statements(f"/runs/{world.small}", with_=include)
    big = world.statements(f"/runs/{world.big}", with_=include)
    assert small == big


@pytest.mark.parametrize("include", ["", *RUN_INCLUDES])
def test_a_page_of_runs_costs_the_same_for_3_or_20_runs(world: World, include: str) -> None:
    three = world.statements("/runs", 3, per_page=3, with_=include)
    twenty = world.statements("/runs", 20, per_page=20, with_=include)
    assert three == twenty


@pytest.mark.parametrize("path", ["/tasks", "/me/tasks"])
@pytest.mark.parametrize("include", ["", *TASK_INCLUDES])
def test_a_page_of_tasks_costs_the_same_for_3_or_20_tasks(
    world: World, path: str, include: str
) -> None:
    three = world.statements(path, 3, per_page=3, with_=include)
    twenty = world.statements(path, 20, per_page=20, with_=include)
    assert three == twenty


# The template a run came from is read as the template routes read it (several statements).
RUN_INCLUDE_COST = {"checklist": 4}


@pytest.mark.parametrize("include", RUN_INCLUDES)
def test_each_run_include_costs_one_statement(world: World, include: str) -> None:
    bare = world.statements(f"/runs/{world.big}")
    included = world.statements(f"/runs/{world.big}", with_=include)
    assert included - bare <= RUN_INCLUDE_COST.get(include, 1)


@pytest.mark.parametrize("include", TASK_INCLUDES)
def test_each_task_include_costs_one_statement(world: World, include: str) -> None:
    bare = world.statements("/tasks", 20, per_page=20)
    assert world.statements("/tasks", 20, per_page=20, with_=include) - bare <= 1


def test_a_task_read_is_its_row_its_owners_and_one_statement_more(world: World) -> None:
    """Values and issue marks of a page of tasks come in one statement."""
    bare_run = world.statements(f"/runs/{world.big}")
    # The tasks, their owners and basics in one statement; the run's stats come from them.
    assert world.statements(f"/runs/{world.big}", with_="tasks") == bare_run
    one = world.statements(f"/tasks/{world.first_task}")
    # Authentication (2), the task with its owners (2), values and issue marks (1).
    assert one <= 5


# Authentication, with the auth cache off here: the token and the membership.
AUTH = 2


@pytest.mark.parametrize(
    ("path", "budget"),
    [
        # One: the page with its owners, values and issue marks, the names of the members
        # assigned (lists show them as objects) and the total (from the counters).
        ("/tasks", 1),
        ("/runs", 1),  # the page with its stats and its total
        # ... and the member's groups, which the auth cache holds between requests.
        ("/me/tasks", 2),
    ],
)
def test_a_list_costs_its_total_its_page_and_the_page_details(
    world: World, path: str, budget: int
) -> None:
    assert world.statements(path) - AUTH <= budget


def test_a_run_with_its_tasks_costs_two_statements(world: World) -> None:
    assert world.statements(f"/runs/{world.big}", with_="tasks") - AUTH <= 2


def test_a_completion_reads_its_run_organization_template_and_issues_at_once(
    world: World,
) -> None:
    """The run's lock reads its organization (and whether it has webhook watchers) and its
    template; the task's lock whether any of its fields is required."""
    run_id = world._launch(world.small_template)
    org = world.org
    first = ok(org.api.get(org.path(f"/runs/{run_id}/tasks")))[0]
    done = org.api.post(org.path(f"/runs/{run_id}/completed-tasks"), json={"task_id": first["id"]})
    assert done.status_code == 200, done.text
    assert done.json()["data"]["status"] == "completed"
    # The run, the task with the open issues around it, the change, the run's tasks (their
    # deadlines), the activity, the answer's values: on SQLite the run's lock is an UPDATE
    # more.
    assert int(done.headers[HEADER]) - AUTH <= COMPLETION[org.server.backend]


COMPLETION = {"postgresql": 6, "sqlite": 7}


def test_a_launch_costs_the_same_with_3_or_20_steps(world: World) -> None:
    """One insert per table whatever the number of steps; the template's lock reads the
    organization and whether it has webhook watchers."""

    def launched(template: str) -> int:
        body = {"checklist_id": template}
        answer = world.org.api.post(world.org.path("/runs"), json=body)
        assert answer.status_code == 201, answer.text
        return int(answer.headers[HEADER]) - AUTH

    small, big = launched(world.small_template), launched(world.big_template)
    assert small == big
    # The template, its steps, its fields, the numbering, the run, its tasks, their
    # assignees, the activity, the template's custom field values; and the caller's user
    # row, which the auth cache (off here) holds between requests (SQLite: + its lock).
    assert big <= LAUNCH[world.org.server.backend]


LAUNCH = {"postgresql": 10, "sqlite": 11}
