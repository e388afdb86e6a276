"""Job leases: a run that outlived its lease commits nothing; a crashed holder blocks its job
only until its lease ends; a failing job is logged and the others go on."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.config import Settings
from checkrun.db import make_engine, make_sessionmaker
from checkrun.kit import events
from checkrun.scheduler.loop import Scheduler
from checkrun.scheduler.registry import Job
from tests.conftest import LiveServer, Org
from tests.scheduler.conftest import (
    BASE,
    deadline_of,
    eventually,
    one_off,
    query,
    reminders_of,
    runs_of,
    ticks,
)
from tests.support.clock import MovableClock

DEADLINE = BASE + timedelta(days=2, hours=3)
JobBody = Callable[[AsyncSession, datetime, Settings], Awaitable[int]]


def _with_scheduler(server: LiveServer, work: Callable[[Scheduler], Awaitable[Any]]) -> Any:
    async def go() -> Any:
        engine = make_engine(server.settings.resolved_database_url)
        try:
            return await work(
                Scheduler(make_sessionmaker(engine, server.settings), server.settings)
            )
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _retitle(task_id: str, title: str) -> JobBody:
    async def run(db: AsyncSession, moment: datetime, settings: Settings) -> int:
        await db.execute(
            text("UPDATE tasks SET title = :t WHERE id = :i"), {"t": title, "i": task_id}
        )
        return 1

    return run


def _title(server: LiveServer, task_id: str) -> str:
    return str(query(server, "SELECT title FROM tasks WHERE id = :i", i=task_id)[0][0])


def _lease(server: LiveServer, job: str) -> tuple[Any, ...]:
    rows = query(server, "SELECT lease_token, runs FROM scheduler_jobs WHERE name = :n", n=job)
    return tuple(rows[0])


def test_a_run_that_lost_its_lease_commits_nothing(
    sched_server: LiveServer, sched_org: Org
) -> None:
    task = one_off(sched_org, DEADLINE)
    name = f"test-{uuid.uuid4().hex[:8]}"
    retitle = _retitle(task["id"], "changed by a run that lost its lease")

    async def stolen(db: AsyncSession, moment: datetime, settings: Settings) -> int:
        # Another process takes the job over (as when this run's lease ran out).
        engine = make_engine(settings.resolved_database_url)
        try:
            async with engine.begin() as other:
                await other.execute(
                    text("UPDATE scheduler_jobs SET lease_token = 'thief' WHERE name = :n"),
                    {"n": name},
                )
        finally:
            await engine.dispose()
        return await retitle(db, moment, settings)

    assert _with_scheduler(sched_server, lambda s: s.run_once(Job(name, stolen))) is None
    assert _title(sched_server, task["id"]) == task["title"]
    assert _lease(sched_server, name) == ("thief", 0)

    fine = f"test-{uuid.uuid4().hex[:8]}"
    assert (
        _with_scheduler(
            sched_server, lambda s: s.run_once(Job(fine, _retitle(task["id"], "changed once")))
        )
        == 1
    )
    assert _title(sched_server, task["id"]) == "changed once"
    assert _lease(sched_server, fine) == (None, 1)


def test_a_failing_job_releases_its_lease_and_the_others_still_run(
    sched_server: LiveServer, sched_org: Org
) -> None:
    task = one_off(sched_org, DEADLINE)
    name, after = f"test-{uuid.uuid4().hex[:8]}", f"test-{uuid.uuid4().hex[:8]}"

    async def boom(db: AsyncSession, moment: datetime, settings: Settings) -> int:
        raise RuntimeError("this job is broken")

    async def both(scheduler: Scheduler) -> None:
        await scheduler._drain(Job(name, boom))
        await scheduler._drain(Job(after, _retitle(task["id"], "still ran")))

    _with_scheduler(sched_server, both)
    assert _lease(sched_server, name) == (None, 0)
    assert _title(sched_server, task["id"]) == "still ran"


def test_a_crashed_holder_blocks_its_job_only_until_its_lease_ends(
    sched_server: LiveServer, sched_org: Org, clock: MovableClock, emitted: list[events.Event]
) -> None:
    task = one_off(sched_org, DEADLINE)
    soon = deadline_of(task) - timedelta(hours=23)
    ticks(sched_server, "reminders", 1)  # the job's row exists
    sched_server.execute(
        "UPDATE scheduler_jobs SET lease_token = 'crashed', lease_until = "
        f"'{(soon + timedelta(minutes=1)).strftime('%Y-%m-%d %H:%M:%S')}' "
        "WHERE name = 'reminders'"
    )
    before = runs_of(sched_server, "reminders")
    clock.set(soon)
    ticks(sched_server, "expiring_tasks")  # whole ticks went by, reminders included
    assert runs_of(sched_server, "reminders") == before
    assert reminders_of(emitted, task["id"]) == []

    clock.set(soon + timedelta(minutes=1))
    eventually(lambda: reminders_of(emitted, task["id"]), what="the reminder")
    assert reminders_of(emitted, task["id"]) == [("due-soon", task["deadline"])]


def test_a_scheduler_stopped_mid_statement_stops(sched_server: LiveServer) -> None:
    """A stop cancels the job where it waits on the database: the driver's error on the way
    out must not swallow the cancellation (the shutdown waited for ever)."""
    if sched_server.backend == "sqlite":
        pytest.skip("SQLite's driver runs a statement to its end: none is cancelled mid-way")
    name = f"test-{uuid.uuid4().hex[:8]}"
    started = asyncio.Event()

    async def slow(db: AsyncSession, moment: datetime, settings: Settings) -> int:
        started.set()
        await db.execute(text("SELECT pg_sleep(60)"))
        return 1

    async def stop_mid_statement(scheduler: Scheduler) -> bool:
        job = Job(name, slow)
        scheduler._main = asyncio.create_task(scheduler._drain(job))
        await asyncio.wait_for(started.wait(), 30)
        await asyncio.sleep(0.2)  # inside pg_sleep
        await asyncio.wait_for(scheduler.stop(), 20)
        return scheduler._main.cancelled()

    assert _with_scheduler(sched_server, stop_mid_statement) is True
    assert _lease(sched_server, name) == (None, 0)  # given back on the way out
