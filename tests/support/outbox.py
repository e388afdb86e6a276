"""The email outbox of a live server, from a test: messages enqueued as the app does (in a
session that carries the server's settings), and its rows read back."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.db import make_engine, make_sessionmaker
from checkrun.mail import kinds
from checkrun.mail.outbox import Message, enqueue
from tests.conftest import LiveServer

T = TypeVar("T")


def address(prefix: str = "to") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def in_session(
    server: LiveServer, work: Callable[[AsyncSession], Awaitable[T]], commit: bool = True
) -> T:
    """`work` in one transaction of a session made like the app's, committed or rolled back."""

    async def run() -> T:
        engine = make_engine(server.settings.resolved_database_url)
        try:
            async with make_sessionmaker(engine, server.settings)() as db:
                result = await work(db)
                await (db.commit() if commit else db.rollback())
                return result
        finally:
            await engine.dispose()

    return asyncio.run(run())


def message(
    org_id: str, to: str, subject: str = "Hello", kind: str = kinds.TASK_ASSIGNED, **fields: Any
) -> Message:
    return Message(
        org_id=org_id,
        kind=kind,
        to_email=to,
        subject=subject,
        text=f"Plain: {subject}",
        html=f"<p>HTML: {subject}</p>",
        **fields,
    )


def enqueue_all(server: LiveServer, messages: list[Message], commit: bool = True) -> list[bool]:
    async def work(db: AsyncSession) -> list[bool]:
        return [await enqueue(db, m) for m in messages]

    return in_session(server, work, commit)


def outbox(server: LiveServer, org_id: str) -> list[dict[str, Any]]:
    async def work(db: AsyncSession) -> list[dict[str, Any]]:
        rows = await db.execute(
            text("SELECT * FROM mail_outbox WHERE org_id = :org"), {"org": org_id}
        )
        return [dict(r._mapping) for r in rows]

    return in_session(server, work)


def wait_rows(
    server: LiveServer,
    org_id: str,
    done: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 30.0,
) -> list[dict[str, Any]]:
    """The organization's outbox rows once `done(rows)` holds (the worker is on its way)."""
    end = time.monotonic() + timeout
    while True:
        rows = outbox(server, org_id)
        if done(rows):
            return rows
        assert time.monotonic() < end, f"outbox never got there: {rows}"
        time.sleep(0.1)


def all_in(status: str, count: int) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda rows: len(rows) == count and all(r["status"] == status for r in rows)


def attempted(count: int) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda rows: rows[0]["attempts"] == count
