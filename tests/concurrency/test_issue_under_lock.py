"""A completion that waited for its task's lock sees the issue its holder opened meanwhile.

PostgreSQL only: a `FOR UPDATE` that waited answers the row as committed, but its other
columns and subqueries from the snapshot the statement started with. SQLite has one writer
at a time and takes its write lock before reading."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
import pytest

from tests.comments.test_issues import TASK_BLOCKED
from tests.conftest import Org
from tests.support.factories import checklist, ok, one_off_task, run

LOCK_WAIT_S = 30


def _dsn(org: Org) -> str:
    return org.server.settings.resolved_database_url.replace("+asyncpg", "")


async def _waiting_on_a_lock(watch: asyncpg.Connection, holder_pid: int) -> None:
    """Until a backend waits on a lock that `holder_pid` holds."""
    for _ in range(LOCK_WAIT_S * 20):
        blocked = await watch.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
            holder_pid,
        )
        if blocked:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the completion never waited on the lock")


async def _complete_while_issue_reopens(
    org: Org, lock_sql: list[str], path: str, task_id: str, issue_id: str
) -> httpx.Response:
    """Holds the rows `lock_sql` locks, sends the completion, and once it waits, reopens the
    issue and commits: the completion then runs with the issue open."""
    holder, watch = await asyncpg.connect(_dsn(org)), await asyncpg.connect(_dsn(org))
    headers = dict(org.api.headers)
    try:
        async with httpx.AsyncClient(base_url=str(org.api.base_url), headers=headers) as api:
            transaction = holder.transaction()
            await transaction.start()
            for sql in lock_sql:
                await holder.execute(sql)
            sent = asyncio.create_task(api.post(path, json={"task_id": task_id}, timeout=60))
            await _waiting_on_a_lock(watch, holder.get_server_pid())
            await holder.execute("UPDATE comments SET resolved_at = NULL WHERE id = $1", issue_id)
            await transaction.commit()
            return await sent
    finally:
        await holder.close()
        await watch.close()


def _resolved_issue(org: Org, task_id: str) -> str:
    """An issue on the task, marked resolved behind the API's back (the test reopens it)."""
    issue: dict[str, Any] = ok(
        org.api.post(org.path(f"/tasks/{task_id}/problem"), json={"content": "Wrong"}), 201
    )
    org.server.execute(f"UPDATE comments SET resolved_at = now() WHERE id = '{issue['id']}'")
    return str(issue["id"])


def _refused_as_blocked(answer: httpx.Response) -> None:
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"] == {"task_id": [TASK_BLOCKED]}


def test_a_one_off_task_locked_by_another_writer(org: Org) -> None:
    if org.server.backend != "postgresql":
        pytest.skip("SQLite takes its write lock before it reads")
    task = one_off_task(org)
    issue_id = _resolved_issue(org, task["id"])
    lock = [f"SELECT id FROM tasks WHERE id = '{task['id']}' FOR UPDATE"]
    answer = asyncio.run(
        _complete_while_issue_reopens(org, lock, org.path("/completed-tasks"), task["id"], issue_id)
    )
    _refused_as_blocked(answer)


def test_a_process_task_whose_run_another_writer_locked(org: Org) -> None:
    if org.server.backend != "postgresql":
        pytest.skip("SQLite takes its write lock before it reads")
    launched = run(org, checklist(org, steps=2)["id"])
    task = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))[0]
    issue_id = _resolved_issue(org, task["id"])
    lock = [
        f"SELECT id FROM runs WHERE id = '{launched['id']}' FOR UPDATE",
        f"SELECT id FROM tasks WHERE id = '{task['id']}' FOR UPDATE",
    ]
    path = org.path(f"/runs/{launched['id']}/completed-tasks")
    answer = asyncio.run(_complete_while_issue_reopens(org, lock, path, task["id"], issue_id))
    _refused_as_blocked(answer)
