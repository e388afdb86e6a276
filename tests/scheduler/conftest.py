"""A live server per database whose clock the test moves (a clock file) and whose scheduler
ticks every 0.1 s; helpers to wait for ticks and for effects.

"Not before" is proved without sleeping: the clock is moved to just before the moment, then
the test waits until the job has committed two more runs (`scheduler_jobs.runs`: the second
one began after the move) and looks for the effect."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from sqlalchemy import text

from checkrun.db import make_engine
from checkrun.kit import events
from checkrun.kit.clock import parse_datetime
from tests.conftest import LiveServer, Org, live_server, new_org
from tests.support.clock import MovableClock

# A Monday morning: deadlines in the tests fall on working days, inside working hours.
BASE = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
FAST_SCHEDULER = {"scheduler_poll_seconds": 0.1, "scheduler_batch_size": 7}
T = TypeVar("T")


@pytest.fixture(scope="module")
def clock(tmp_path_factory: pytest.TempPathFactory) -> MovableClock:
    return MovableClock(tmp_path_factory.mktemp("clock") / "now.txt", BASE)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def sched_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, clock: MovableClock
) -> Iterator[LiveServer]:
    with live_server(
        request.param,
        tmp_path_factory.mktemp(f"sched-{request.param}"),
        clock_file=clock.path,
        **FAST_SCHEDULER,
    ) as live:
        yield live


@pytest.fixture
def sched_org(sched_server: LiveServer, clock: MovableClock) -> Iterator[Org]:
    clock.set(BASE)
    with new_org(sched_server) as made:
        yield made


def query(server: LiveServer, sql: str, **params: Any) -> list[Any]:
    async def work() -> list[Any]:
        engine = make_engine(server.settings.resolved_database_url)
        try:
            async with engine.connect() as conn:
                return list(await conn.execute(text(sql), params))
        finally:
            await engine.dispose()

    return asyncio.run(work())


def runs_of(server: LiveServer, job: str) -> int:
    rows = query(server, "SELECT runs FROM scheduler_jobs WHERE name = :n", n=job)
    return int(rows[0][0]) if rows else 0


def eventually(probe: Callable[[], T | None], timeout: float = 20, what: str = "effect") -> T:
    """Polls `probe` until it answers something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout}s")
        time.sleep(0.05)


def ticks(server: LiveServer, job: str, count: int = 2) -> None:
    """Waits until `job` has committed `count` more runs on this database."""
    start = runs_of(server, job)
    eventually(lambda: runs_of(server, job) >= start + count, what=f"{count} runs of {job}")


def reminders_of(seen: list[events.Event], task_id: str) -> list[tuple[str, str]]:
    return [
        (e.verb, str(e.extra.get("deadline")))
        for e in seen
        if e.task_id == task_id and e.verb in ("due-soon", "overdue")
    ]


def deadline_of(task: dict[str, Any]) -> datetime:
    return parse_datetime(task["deadline"])


def one_off(org: Org, deadline: datetime, **fields: Any) -> dict[str, Any]:
    body = {
        "title": "Send the report",
        "task_type": "task",
        "owners": {"users": [org.admin_id]},
        "deadline": deadline.strftime("%Y-%m-%dT%H:%M:%SZ"),
        **fields,
    }
    made = org.api.post(org.path("/tasks"), json=body)
    assert made.status_code == 201, made.text
    return dict(made.json()["data"])


def task_now(org: Org, task: dict[str, Any]) -> dict[str, Any]:
    path = (
        f"/runs/{task['run_id']}/tasks/{task['id']}"
        if task.get("run_id")
        else f"/tasks/{task['id']}"
    )
    got = org.api.get(org.path(path))
    assert got.status_code == 200, got.text
    return dict(got.json()["data"])
