"""A launch costs the same number of SQL statements whatever the number of steps and
assignees (one insert per table), and a completion a fixed number: counted in-process with a
`before_cursor_execute` listener on the app's engine (no lifespan, so no background worker
adds statements of its own)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from checkrun import migrate
from checkrun.app import create_app
from checkrun.config import Settings
from checkrun.db import make_sessionmaker
from checkrun.members.service import create_organization
from tests.conftest import CLIENT_HEADERS, _drop_postgres, _postgres_url

# The whole request, authentication and the answer included; the figures of today, so that
# a statement added on the way shows here (lower them when a change saves one).
# SQLite locks a row with a no-op UPDATE before reading it (kit/locking.py): one more.
LAUNCH_AT_MOST = {"sqlite": 11, "postgresql": 10}
COMPLETION_AT_MOST = {"sqlite": 7, "postgresql": 6}


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    database_url = _postgres_url() if request.param == "postgresql" else None
    # The token and membership stay cached across a loaded machine's pauses: re-reading them
    # would count two statements that are not the write's.
    made = Settings(
        data_dir=tmp_path,
        database_url=database_url,
        rate_limit_per_minute=0,
        auth_cache_seconds=3600,
    )
    migrate.upgrade(made.resolved_database_url)
    try:
        yield made
    finally:
        if database_url:
            _drop_postgres(database_url)


@dataclass
class App:
    client: httpx.AsyncClient
    org: str
    admin_id: int
    statements: list[str]

    async def counted(self, method: str, path: str, body: Any = None) -> tuple[Any, int]:
        self.statements.clear()
        response = await self.client.request(method, self.org + path, json=body)
        assert response.is_success, response.text
        return response.json().get("data"), len(self.statements)

    async def ok(self, method: str, path: str, body: Any = None) -> Any:
        response = await self.client.request(method, self.org + path, json=body)
        assert response.is_success, response.text
        return response.json().get("data")


@asynccontextmanager
async def in_process(settings: Settings) -> AsyncIterator[App]:
    app = create_app(settings)
    engine = app.state.engine
    # PostgreSQL's launch numbering runs on an engine of its own (`db.make_numbering_engine`).
    engines = [e for e in (engine, app.state.numbering_engine) if e is not None]
    async with make_sessionmaker(engine)() as db:
        boot = await create_organization(db, "Counted", f"a-{uuid.uuid4().hex[:8]}@example.com")
        await db.commit()
    statements: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    headers = {**CLIENT_HEADERS, "Authorization": f"Bearer {boot.token}"}
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://checkrun/api", headers=headers
        ) as client:
            for counted in engines:
                event.listen(counted.sync_engine, "before_cursor_execute", record)
            yield App(client, f"/organizations/{boot.org_id}", boot.user_id, statements)
    finally:
        for counted in engines:
            event.remove(counted.sync_engine, "before_cursor_execute", record)
            await counted.dispose()


async def _template(app: App, steps: int) -> tuple[str, list[str]]:
    made = await app.ok("POST", "/checklists", {"title": f"{steps} steps", "type": "procedure"})
    step_ids = []
    for i in range(steps):
        step = await app.ok(
            "POST",
            f"/checklists/{made['id']}/steps",
            {"title": f"Step {i + 1}", "assignees": [app.admin_id]},
        )
        step_ids.append(step["id"])
    return made["id"], step_ids


async def _launch_statements(app: App, steps: int) -> int:
    checklist_id, step_ids = await _template(app, steps)
    # Every other step's assignees given at launch: those are checked too.
    overrides = {s: {"owners": {"users": [app.admin_id]}} for s in step_ids[::2]}
    await app.counted("POST", "/runs", {"checklist_id": checklist_id})  # warm caches
    _, count = await app.counted(
        "POST", "/runs", {"checklist_id": checklist_id, "tasks": overrides}
    )
    return count


def test_launch_statements_do_not_grow_with_steps_or_assignees(settings: Settings) -> None:
    async def work() -> tuple[int, int]:
        async with in_process(settings) as app:
            return await _launch_statements(app, 2), await _launch_statements(app, 12)

    small, large = asyncio.run(work())
    assert large == small
    assert large <= LAUNCH_AT_MOST["postgresql" if settings.database_url else "sqlite"]


def test_completion_statements(settings: Settings) -> None:
    async def work() -> int:
        async with in_process(settings) as app:
            checklist_id, _ = await _template(app, 5)
            run = await app.ok("POST", "/runs", {"checklist_id": checklist_id})
            tasks = await app.ok("GET", f"/runs/{run['id']}/tasks")
            path = f"/runs/{run['id']}/completed-tasks"
            await app.counted("POST", path, {"task_id": tasks[0]["id"]})  # warm caches
            _, count = await app.counted("POST", path, {"task_id": tasks[1]["id"]})
            return count

    backend = "postgresql" if settings.database_url else "sqlite"
    assert asyncio.run(work()) <= COMPLETION_AT_MOST[backend]
