"""What a launch in progress holds on PostgreSQL: the template against edits only (launches of
one template go side by side), and the organization's settings against a change of them (a
launch waits for one in progress and counts its reminders with the new settings). Its numbers
come from a statement committed on its own; one that waits too long for the organization's row
gives way to numbering in the launch's transaction.

Another connection stands in for the transaction in progress and holds what it would hold;
SQLite has one writer at a time, which orders all of this by itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import asyncpg
import httpx
import pytest

from checkrun.db import NUMBERING_LOCK_TIMEOUT
from checkrun.orgs.repository import SETTINGS_LOCKS
from tests.concurrency.test_issue_under_lock import LOCK_WAIT_S, _dsn, _waiting_on_a_lock
from tests.conftest import Org
from tests.support.factories import checklist, ok


def _postgresql_only(org: Org) -> None:
    if org.server.backend != "postgresql":
        pytest.skip("SQLite has one writer at a time")


@asynccontextmanager
async def _holding(
    org: Org,
) -> AsyncIterator[tuple[asyncpg.Connection, asyncpg.Connection, httpx.AsyncClient]]:
    """A connection that stands in for the transaction in progress, one that watches who
    waits on it, and an API client."""
    holder, watch = await asyncpg.connect(_dsn(org)), await asyncpg.connect(_dsn(org))
    try:
        async with httpx.AsyncClient(
            base_url=str(org.api.base_url), headers=dict(org.api.headers), timeout=60
        ) as api:
            yield holder, watch, api
    finally:
        await holder.close()
        await watch.close()


async def _launch_beside_a_launch(org: Org, checklist_id: str, step_id: str) -> None:
    async with _holding(org) as (holder, watch, api):
        transaction = holder.transaction()
        await transaction.start()
        # What a launch of the template holds until it commits.
        await holder.execute("SELECT id FROM checklists WHERE id = $1 FOR SHARE", checklist_id)
        launched = await asyncio.wait_for(
            api.post(org.path("/runs"), json={"checklist_id": checklist_id}), LOCK_WAIT_S
        )
        assert launched.status_code == 201, launched.text
        # An edit waits for the launch in progress, then goes through.
        edit = asyncio.create_task(
            api.put(
                org.path(f"/checklists/{checklist_id}/steps/{step_id}"),
                json={"title": "Renamed"},
            )
        )
        await _waiting_on_a_lock(watch, holder.get_server_pid())
        assert not edit.done()
        await transaction.commit()
        assert (await edit).status_code == 200, (await edit).text


def test_launches_of_one_template_go_side_by_side_and_an_edit_waits(org: Org) -> None:
    _postgresql_only(org)
    template = checklist(org, steps=2)
    steps = ok(org.api.get(org.path(f"/checklists/{template['id']}/steps")))
    asyncio.run(_launch_beside_a_launch(org, template["id"], steps[0]["id"]))


async def _launch_during_a_settings_change(org: Org, checklist_id: str, lead_hours: int) -> str:
    """Holds the organization's settings lock as a change of its settings does, sends a
    launch, and once it waits, changes the reminder settings and commits."""
    async with _holding(org) as (holder, watch, api):
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))", SETTINGS_LOCKS, org.id
        )
        sent = asyncio.create_task(api.post(org.path("/runs"), json={"checklist_id": checklist_id}))
        await _waiting_on_a_lock(watch, holder.get_server_pid())
        await holder.execute(
            "UPDATE organizations SET preferences = $1 WHERE id = $2",
            f'{{"reminder_due_soon_hours": {lead_hours}}}',
            org.id,
        )
        await transaction.commit()
        launched = await sent
        assert launched.status_code == 201, launched.text
        return str(launched.json()["data"]["id"])


async def _reminders(org: Org, run_id: str) -> list[tuple[datetime | None, datetime | None]]:
    conn = await asyncpg.connect(_dsn(org))
    try:
        rows = await conn.fetch("SELECT deadline, remind_at FROM tasks WHERE run_id = $1", run_id)
        return [(row["deadline"], row["remind_at"]) for row in rows]
    finally:
        await conn.close()


def test_a_launch_waits_for_a_settings_change_and_reminds_by_its_settings(org: Org) -> None:
    _postgresql_only(org)
    template = checklist(org, steps=2)
    run_id = asyncio.run(_launch_during_a_settings_change(org, template["id"], lead_hours=5))
    reminders = asyncio.run(_reminders(org, run_id))
    assert len(reminders) == 2
    for deadline, remind_at in reminders:
        assert deadline is not None
        assert remind_at == deadline - timedelta(hours=5)


async def _launch_while_the_counters_are_held(org: Org, checklist_id: str) -> httpx.Response:
    """Holds the organization's row as a transaction numbering something else does, past the
    numbering engine's lock timeout, then commits."""
    async with _holding(org) as (holder, watch, api):
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute("SELECT id FROM organizations WHERE id = $1 FOR NO KEY UPDATE", org.id)
        sent = asyncio.create_task(api.post(org.path("/runs"), json={"checklist_id": checklist_id}))
        await _waiting_on_a_lock(watch, holder.get_server_pid())
        await asyncio.sleep(_seconds(NUMBERING_LOCK_TIMEOUT) + 0.5)
        await _waiting_on_a_lock(watch, holder.get_server_pid())  # in the transaction now
        await transaction.commit()
        return await sent


def _seconds(setting: str) -> float:
    return float(setting.removesuffix("s"))


def test_a_launch_whose_numbers_wait_too_long_numbers_in_its_transaction(org: Org) -> None:
    _postgresql_only(org)
    template = checklist(org, steps=2)
    before = ok(org.api.post(org.path("/runs"), json={"checklist_id": template["id"]}), 201)
    launched = asyncio.run(_launch_while_the_counters_are_held(org, template["id"]))
    assert launched.status_code == 201, launched.text
    assert launched.json()["data"]["increment_id"] == before["increment_id"] + 1
