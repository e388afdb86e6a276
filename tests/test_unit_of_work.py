"""The unit of work at the request boundary (kit/unit_of_work.py): a request commits when its
endpoint returned and before its answer is sent, rolls back on any error (raised by the endpoint
or by a check run at the boundary), and no route or page commits by hand."""

from __future__ import annotations

import ast
import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.db import Base, make_engine, make_sessionmaker
from checkrun.kit import events
from checkrun.kit import unit_of_work as uow
from checkrun.kit.routing import include
from checkrun.orgs.models import Organization
from tests.conftest import Org
from tests.support.factories import checklist, db_count, ok, run

SRC = Path(__file__).resolve().parents[1] / "src" / "checkrun"
CAP_MESSAGE = (
    "You've reached the hourly limit for Guest Invite (30 per hour per organization). "
    "Please try again later."
)


def _address(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"


def _task_body(org: Org, title: str, **fields: Any) -> dict[str, Any]:
    return {
        "title": title,
        "task_type": "task",
        "owners": {"users": [org.admin_id]},
        "deadline": "2030-01-01T12:00:00Z",
        **fields,
    }


# --- over HTTP, on both databases ----------------------------------------------------------------


def test_an_error_after_a_flush_leaves_nothing_behind(
    org: Org, emitted: list[events.Event]
) -> None:
    """The guest assignee is inserted (and its invite event emitted) before the unknown
    process is refused: the 422 takes the guest with it."""
    email = _address("flushed")
    title = f"Refused {uuid.uuid4().hex[:8]}"
    body = _task_body(org, title, owners={"guests": [email]}, run_id="0" * 32)
    response = org.api.post(org.path("/tasks"), json=body)
    assert response.status_code == 422, response.text
    assert any(e.type == "Guest" and e.new_value == email for e in emitted), "guest not flushed"
    assert org.api.get(org.path(f"/guests/{email}")).status_code == 404
    assert (
        db_count(org, "guests", "org_id = :org_id AND email = :email", org_id=org.id, email=email)
        == 0
    )
    assert (
        db_count(org, "tasks", "org_id = :org_id AND title = :title", org_id=org.id, title=title)
        == 0
    )
    assert (
        db_count(org, "activity_feeds", "org_id = :org_id AND entity_type = 'guest'", org_id=org.id)
        == 0
    )


def test_a_check_refused_at_the_boundary_undoes_what_the_endpoint_did(org: Org) -> None:
    """The invite cap is charged after the endpoint built its 201 and before the commit: the
    429 leaves neither the task nor its new guest."""
    for i in range(30):
        ok(org.api.post(org.path("/guests"), json={"email": _address(f"g{i}")}), 201)
    email = _address("late")
    title = f"Over the cap {uuid.uuid4().hex[:8]}"
    response = org.api.post(
        org.path("/tasks"), json=_task_body(org, title, owners={"guests": [email]})
    )
    assert response.status_code == 429, response.text
    assert response.json() == {"error": True, "message": CAP_MESSAGE, "code": "RATE_LIMIT_EXCEEDED"}
    assert (
        db_count(org, "tasks", "org_id = :org_id AND title = :title", org_id=org.id, title=title)
        == 0
    )
    assert (
        db_count(org, "guests", "org_id = :org_id AND email = :email", org_id=org.id, email=email)
        == 0
    )
    # A task without a new guest is charged nothing: the boundary commits it.
    made = ok(org.api.post(org.path("/tasks"), json=_task_body(org, title)), 201)
    assert db_count(org, "tasks", "id = :id", id=made["id"]) == 1


def test_a_write_is_visible_to_another_connection_when_its_answer_arrives(org: Org) -> None:
    """The commit happens before the answer is sent, so another connection sees the write the
    moment the client has the answer: create, change and delete, many times over."""

    async def work() -> list[str]:
        engine = make_engine(org.server.settings.resolved_database_url)
        missed: list[str] = []
        try:
            async with engine.connect() as conn:

                async def title_of(tag_id: str) -> str | None:
                    found = await conn.execute(
                        text("SELECT title FROM tags WHERE id = :id"), {"id": tag_id}
                    )
                    await conn.rollback()  # the next read starts a fresh snapshot
                    value = found.scalar_one_or_none()
                    return None if value is None else str(value)

                for i in range(25):
                    title = f"seen-{i}-{uuid.uuid4().hex[:8]}"
                    made = ok(org.api.post(org.path("/tags"), json={"title": title}), 201)
                    if await title_of(made["id"]) != title:
                        missed.append(f"create {i}")
                    renamed = title + "-renamed"
                    ok(org.api.put(org.path(f"/tags/{made['id']}"), json={"title": renamed}))
                    if await title_of(made["id"]) != renamed:
                        missed.append(f"update {i}")
                    assert org.api.delete(org.path(f"/tags/{made['id']}")).status_code == 204
                    if await title_of(made["id"]) is not None:
                        missed.append(f"delete {i}")
        finally:
            await engine.dispose()
        return missed

    assert asyncio.run(work()) == []


def test_a_commit_that_fails_answers_an_error_not_a_success(org: Org) -> None:
    """A deferred constraint fails only at COMMIT: the client gets the 500, never the 201,
    and the tag is not there. PostgreSQL only (SQLite has no deferred check to fail)."""
    if org.server.backend != "postgresql":
        pytest.skip("SQLite cannot defer a check to COMMIT")
    name = f"uow_refuse_{uuid.uuid4().hex[:8]}"
    refused_title = f"{name}-title"
    org.server.execute(
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF NEW.title = '{refused_title}' THEN RAISE EXCEPTION 'refused at commit'; END IF; "
        "RETURN NEW; END $$"
    )
    org.server.execute(
        f"CREATE CONSTRAINT TRIGGER {name} AFTER INSERT ON tags DEFERRABLE INITIALLY DEFERRED "
        f"FOR EACH ROW EXECUTE FUNCTION {name}()"
    )
    try:
        response = org.api.post(org.path("/tags"), json={"title": refused_title})
        assert response.status_code == 500, response.text
        assert response.json()["code"] == "SERVER_ERROR"
        assert db_count(org, "tags", "title = :title", title=refused_title) == 0
        # The next request on the same connection pool works.
        ok(org.api.post(org.path("/tags"), json={"title": f"{name}-fine"}), 201)
    finally:
        org.server.execute(f"DROP TRIGGER {name} ON tags")
        org.server.execute(f"DROP FUNCTION {name}()")


def test_a_purge_whose_service_commits_is_visible_at_once(org: Org) -> None:
    """DELETE .../delete takes `ServiceCommittedDb`: its service commits before the bytes go;
    the boundary does not commit again and the purge is there when the answer arrives."""
    launched = run(org, checklist(org)["id"], name="Gone")
    assert db_count(org, "runs", "id = :id", id=launched["id"]) == 1
    ok(org.api.delete(org.path(f"/runs/{launched['id']}/delete")))
    assert db_count(org, "runs", "id = :id", id=launched["id"]) == 0
    assert org.api.get(org.path(f"/runs/{launched['id']}")).status_code == 404


# --- structure -----------------------------------------------------------------------------------

ROUTE_MODULES = sorted(
    [*SRC.glob("*/routes.py"), SRC / "templates" / "steps_routes.py", *SRC.glob("web/*.py")]
)
# Who may commit: the request boundary, the services that order a commit against the blob
# store, and the background workers, scheduler and CLI, which own their transactions.
COMMITTERS = {
    "kit/unit_of_work.py",
    "files/blobs.py",
    "files/service.py",
    "files/gc.py",
    "mail/worker.py",
    "scheduler/loop.py",
    "webhooks/worker.py",
    "cli.py",
    # Claims and keeps an Idempotency-Key's answer in transactions of its own, around the
    # request's (the claim must be seen by a concurrent retry before the request commits).
    "idempotency/middleware.py",
}
SERVICE_COMMITTED = {
    "files/routes.py": {"upload_file", "delete_file"},
    "runs/routes.py": {"delete_run"},
    "tasks/routes.py": {"delete_task"},
    "templates/routes.py": {"delete_checklist"},
}


def _commits(path: Path) -> list[int]:
    tree = ast.parse(path.read_text())
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
    ]


def test_no_route_or_page_commits() -> None:
    assert len(ROUTE_MODULES) > 20
    found = {str(p.relative_to(SRC)): _commits(p) for p in ROUTE_MODULES}
    assert {name: lines for name, lines in found.items() if lines} == {}


def test_only_the_boundary_workers_and_blob_ordering_commit() -> None:
    committing = {str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if _commits(p)}
    committing -= {p for p in committing if p.startswith("migrations/")}
    assert committing == COMMITTERS


def test_the_routes_whose_service_commits_are_named() -> None:
    """Exactly the five routes whose services commit take `ServiceCommittedDb`."""
    found: dict[str, set[str]] = {}
    for path in ROUTE_MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.AsyncFunctionDef):
                continue
            annotations = {ast.unparse(a.annotation) for a in node.args.args if a.annotation}
            if "ServiceCommittedDb" in annotations:
                found.setdefault(str(path.relative_to(SRC)), set()).add(node.name)
    assert found == SERVICE_COMMITTED


def test_no_route_charges_the_invite_cap_itself() -> None:
    """The cap is a before-commit check the guest service registers."""
    for path in ROUTE_MODULES:
        assert "charge_invite" not in path.read_text(), path


# --- the boundary's pieces on a real session ----------------------------------------------------


async def _with_session(tmp_path: Path, work: Any) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'uow.db'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        async with make_sessionmaker(engine)() as db:
            db.info["checkrun.uow.boundary"] = True  # as `request_session` marks its sessions
            await work(db)
    finally:
        await engine.dispose()


def _organization() -> Organization:
    return Organization(id=uuid.uuid4().hex, name="Boundary")


def test_before_commit_checks_run_once_and_are_forgotten_on_rollback(tmp_path: Path) -> None:
    ran: list[str] = []

    async def work(db: AsyncSession) -> None:
        async def check(_: Any) -> None:
            ran.append("check")

        db.add(_organization())
        await db.flush()
        uow.before_commit(db, check)
        await db.rollback()
        await uow.run_before_commit(None, db)  # type: ignore[arg-type]
        assert ran == []
        uow.before_commit(db, check)
        await uow.run_before_commit(None, db)  # type: ignore[arg-type]
        await uow.run_before_commit(None, db)  # type: ignore[arg-type]
        assert ran == ["check"]
        await db.commit()

    asyncio.run(_with_session(tmp_path, work))


def test_a_commit_before_the_checks_ran_is_refused(tmp_path: Path) -> None:
    async def work(db: AsyncSession) -> None:
        async def check(_: Any) -> None:
            return None

        db.add(_organization())
        await db.flush()
        uow.before_commit(db, check)
        with pytest.raises(RuntimeError, match="before the checks"):
            await db.commit()

    asyncio.run(_with_session(tmp_path, work))


def test_a_service_committed_session_refuses_a_write_left_uncommitted(tmp_path: Path) -> None:
    async def work(db: AsyncSession) -> None:
        await uow._committed_by_service(db)
        db.add(_organization())
        await db.commit()
        uow._refuse_uncommitted(db)  # everything written was committed
        db.add(_organization())
        await db.flush()
        with pytest.raises(uow.UncommittedWrite):
            uow._refuse_uncommitted(db)
        await db.rollback()
        uow._refuse_uncommitted(db)

    asyncio.run(_with_session(tmp_path, work))


# --- the boundary is the route ------------------------------------------------------------------


def _app_with(route_class: type[APIRoute], tmp_path: Path) -> FastAPI:
    router = APIRouter(route_class=route_class)

    @router.post("/orgs")
    async def make(db: uow.Db) -> dict[str, str]:
        organization = _organization()
        db.add(organization)
        await db.flush()
        return {"id": organization.id}

    app = FastAPI()
    app.include_router(router)
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'routes.db'}")
    app.state.engine, app.state.sessionmaker = engine, make_sessionmaker(engine)
    return app


async def _post(app: FastAPI) -> tuple[int, str]:
    async with app.state.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await client.post("/orgs")
    async with app.state.engine.connect() as conn:
        stored = (await conn.execute(text("SELECT count(*) FROM organizations"))).scalar_one()
    await app.state.engine.dispose()
    return answer.status_code, str(stored)


def test_a_unit_of_work_route_commits_what_its_endpoint_wrote(tmp_path: Path) -> None:
    assert asyncio.run(_post(_app_with(uow.UnitOfWorkRoute, tmp_path))) == (200, "1")


def test_a_session_outside_a_unit_of_work_route_is_refused_not_lost(tmp_path: Path) -> None:
    """A plain APIRoute would answer success and drop the write: it answers 500 instead."""
    assert asyncio.run(_post(_app_with(APIRoute, tmp_path))) == (500, "0")


def test_the_app_includes_only_unit_of_work_routes() -> None:
    router = APIRouter()
    router.add_api_route("/plain", lambda: None)
    with pytest.raises(TypeError, match="UnitOfWorkRoute"):
        include(FastAPI(), router)
