"""A GET's session only reads (kit/unit_of_work.py, db.make_read_sessionmaker): on PostgreSQL
its statements run without a transaction (as SQLite runs reads), a write through it is refused
before it reaches the database, and an endpoint marked `writes_on_get` writes as any POST does."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import insert, text, update

from checkrun.db import Base, make_engine, make_read_sessionmaker, make_sessionmaker
from checkrun.kit import unit_of_work as uow
from checkrun.orgs.models import Organization

Write = Callable[[uow.Db], Awaitable[None]]


async def _by_flush(db: uow.Db) -> None:
    db.add(Organization(id=uuid.uuid4().hex, name="Read"))
    await db.flush()


async def _by_statement(db: uow.Db) -> None:
    await db.execute(update(Organization).values(name="Renamed"))


async def _by_text(db: uow.Db) -> None:
    await db.execute(text("DELETE FROM organizations"))


def _app(url: str, write: Write) -> FastAPI:
    router = APIRouter(route_class=uow.UnitOfWorkRoute)

    @router.get("/write")
    async def write_on_get(db: uow.Db) -> dict[str, str]:
        await write(db)
        return {}

    @router.get("/marked")
    @uow.writes_on_get
    async def marked(db: uow.Db) -> dict[str, str]:
        await write(db)
        return {}

    async def two_clocks(db: uow.Db) -> list[str]:
        first = (await db.execute(text("SELECT now()"))).scalar_one()
        await db.execute(text("SELECT pg_sleep(0.01)"))
        second = (await db.execute(text("SELECT now()"))).scalar_one()
        return [str(first), str(second)]

    router.add_api_route("/clocks", two_clocks, methods=["GET"])
    router.add_api_route("/clocks", two_clocks, methods=["POST"])
    app = FastAPI()
    app.include_router(router)
    engine = make_engine(url)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.read_sessionmaker = make_read_sessionmaker(engine)
    return app


async def _requests(app: FastAPI, *calls: tuple[str, str]) -> tuple[list[httpx.Response], Any]:
    engine = app.state.engine
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
        await conn.execute(insert(Organization).values(id="kept", name="Kept"))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            answers = [await client.request(method, path) for method, path in calls]
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT id, name FROM organizations"))).all()
    finally:
        await engine.dispose()
    return answers, sorted(tuple(row) for row in rows)


@pytest.mark.parametrize("write", [_by_flush, _by_statement, _by_text])
def test_a_get_that_writes_is_refused_and_writes_nothing(database_url: str, write: Write) -> None:
    answers, rows = asyncio.run(_requests(_app(database_url, write), ("GET", "/write")))
    assert answers[0].status_code == 500
    assert rows == [("kept", "Kept")]


def test_a_get_marked_as_writing_commits_its_write(database_url: str) -> None:
    answers, rows = asyncio.run(_requests(_app(database_url, _by_statement), ("GET", "/marked")))
    assert answers[0].status_code == 200, answers[0].text
    assert rows == [("kept", "Renamed")]


def test_a_get_on_postgresql_reads_outside_a_transaction(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite opens no transaction for a read either way")
    app = _app(database_url, _by_flush)
    answers, _ = asyncio.run(_requests(app, ("GET", "/clocks"), ("POST", "/clocks")))
    read, written = (answer.json() for answer in answers)
    assert read[0] != read[1]  # each statement on its own: now() moves
    assert written[0] == written[1]  # one transaction: now() is its start
