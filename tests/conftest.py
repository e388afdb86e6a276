"""Live checkrun servers (SQLite and PostgreSQL) on free loopback ports, and clients for them.

Every test that uses `server` runs once per database, with files on the local store. Tests that
use `files_server` (every test under tests/files/, through its `org`) run once per database and
store: local files and a real S3-compatible server (moto). Tests isolate by organization: each
gets a fresh org (`org` fixture), which also exercises tenancy on every call.
"""

from __future__ import annotations

import asyncio
import io
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
import uvicorn
from moto.server import ThreadedMotoServer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun import migrate
from checkrun.app import create_app
from checkrun.config import Settings
from checkrun.db import make_engine, make_sessionmaker
from checkrun.kit import clock, events
from checkrun.members.service import Bootstrap, create_organization
from checkrun.storage import BlobStore, make_store

PG_ADMIN_URL = os.environ.get("CHECKRUN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_PG = os.environ.get("CHECKRUN_REQUIRE_POSTGRES") == "1"
CLIENT_HEADERS = {"Accept": "application/json", "X-Tallyfy-Client": "APIClient"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _postgres_url() -> str:
    name = f"checkrun_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach PostgreSQL
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (CHECKRUN_REQUIRE_POSTGRES=1) but: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}"


def _drop_postgres(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    try:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    except Exception:  # noqa: BLE001 - best effort cleanup
        pass


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind: a SQLite file under `tmp_path`, or a new PostgreSQL
    database, dropped after the test."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'checkrun.db'}"
        return
    url = _postgres_url()
    try:
        yield url
    finally:
        _drop_postgres(url)


@dataclass
class LiveServer:
    backend: str
    settings: Settings
    base: str  # http://127.0.0.1:PORT

    @property
    def api(self) -> str:
        return self.base + "/api"

    @property
    def files_dir(self) -> Path:
        return self.settings.data_dir / "files"

    def new_org(self, name: str = "Test Org") -> Bootstrap:
        email = f"admin-{uuid.uuid4().hex[:10]}@example.com"

        async def work() -> Bootstrap:
            engine = make_engine(self.settings.resolved_database_url)
            try:
                async with make_sessionmaker(engine)() as db:
                    result = await create_organization(db, name, email)
                    await db.commit()
                    return result
            finally:
                await engine.dispose()

        return asyncio.run(work())

    @cached_property
    def store(self) -> BlobStore:
        return make_store(self.settings.resolved_storage_url, self.settings.s3_endpoint_url)

    def stored_keys(self) -> set[str]:
        """Every key in this server's blob store, whichever store it is."""

        async def keys() -> set[str]:
            return {key async for key, _ in self.store.keys()}

        return asyncio.run(keys())

    def has_bytes(self, org_id: str, asset_id: str) -> bool:
        return asyncio.run(self.store.exists(f"{org_id}/{asset_id}"))

    def incomplete_uploads(self) -> list[str]:
        """Uploads in flight or abandoned: temporary files, or open S3 multipart uploads."""
        return asyncio.run(self.store.incomplete(datetime.now(UTC) + timedelta(days=1)))

    def execute(self, sql: str) -> None:
        """One statement on the server's database (for what HTTP can't arrange)."""

        async def work() -> None:
            engine = make_engine(self.settings.resolved_database_url)
            try:
                async with engine.begin() as conn:
                    await conn.execute(text(sql))
            finally:
                await engine.dispose()

        asyncio.run(work())

    def client(self, token: str | None, prefix: str = "/api", **headers: str) -> httpx.Client:
        merged = dict(CLIENT_HEADERS)
        if token is not None:
            merged["Authorization"] = f"Bearer {token}"
        merged.update(headers)
        return httpx.Client(base_url=self.base + prefix, headers=merged, timeout=60)


Wrap = Callable[[Any], Any]


class ServerThread(threading.Thread):
    """Runs a uvicorn server in its own event loop, kept so a hang can be shown."""

    def __init__(self, server: uvicorn.Server) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.loop: asyncio.AbstractEventLoop | None = None

    def run(self) -> None:
        async def serve() -> None:
            self.loop = asyncio.get_running_loop()
            await self.server.serve()

        with asyncio.Runner(loop_factory=self.server.config.get_loop_factory()) as runner:
            runner.run(serve())

    def waiting(self) -> str:
        if self.loop is None:
            return ""
        out = io.StringIO()
        for task in list(asyncio.all_tasks(self.loop)):
            task.print_stack(limit=12, file=out)
        return out.getvalue()


def _start(
    settings: Settings, port: int | None = None, wrap: Wrap | None = None
) -> tuple[uvicorn.Server, threading.Thread, int]:
    port = port or free_port()
    app: Any = create_app(settings)
    config = uvicorn.Config(
        wrap(app) if wrap else app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        timeout_keep_alive=settings.keep_alive_seconds,
    )
    server = uvicorn.Server(config)
    thread = ServerThread(server)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    return server, thread, port


def _stop(server: uvicorn.Server, thread: threading.Thread) -> None:
    """A server still running after its test would go on polling a dropped database in the
    background (its scheduler), so a server that will not stop is a failure, shown with what
    its tasks were waiting on."""
    server.should_exit = True
    thread.join(timeout=10)
    if thread.is_alive():
        server.force_exit = True
        thread.join(timeout=10)
    if thread.is_alive():
        waiting = thread.waiting() if isinstance(thread, ServerThread) else ""
        raise RuntimeError(f"test server did not stop within 20 s; its tasks:\n{waiting}")


@contextmanager
def live_server(backend: str, data_dir: Path, **overrides: Any) -> Iterator[LiveServer]:
    """`public_url` is set to the server's own address (links in emails point at it); `wrap`
    wraps the ASGI app (a test's own middleware)."""
    wrap: Wrap | None = overrides.pop("wrap", None)
    database_url = _postgres_url() if backend == "postgresql" else None
    port = free_port()
    overrides.setdefault("public_url", f"http://127.0.0.1:{port}")
    settings = Settings(data_dir=data_dir, database_url=database_url, **overrides)
    migrate.upgrade(settings.resolved_database_url)
    uv, thread, port = _start(settings, port, wrap)
    try:
        yield LiveServer(backend, settings, f"http://127.0.0.1:{port}")
    finally:
        _stop(uv, thread)
        if database_url:
            _drop_postgres(database_url)
        if settings.clock_file is not None:
            clock.use_file(None)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with live_server(request.param, tmp_path_factory.mktemp(f"data-{request.param}")) as live:
        yield live


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible HTTP server (moto's server mode) on a loopback port."""
    with pytest.MonkeyPatch.context() as env:
        # boto3 wants credentials and a region even for moto; the endpoint goes in Settings.
        env.setenv("AWS_ACCESS_KEY_ID", "test")
        env.setenv("AWS_SECRET_ACCESS_KEY", "test")
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        port = free_port()
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        moto.start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            moto.stop()


def new_bucket(endpoint: str) -> str:
    bucket = f"checkrun-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    return bucket


STORE_COMBOS = ["sqlite-local", "postgresql-local", "sqlite-s3", "postgresql-s3"]


@contextmanager
def combo_server(
    request: pytest.FixtureRequest, data_dir: Path, **overrides: Any
) -> Iterator[LiveServer]:
    """A live server for `request.param`, a "<database>-<store>" combination."""
    backend, store = request.param.split("-")
    if store == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        overrides |= {
            "storage_url": f"s3://{new_bucket(endpoint)}/files",
            "s3_endpoint_url": endpoint,
        }
    with live_server(backend, data_dir, **overrides) as live:
        yield live


@pytest.fixture(scope="session", params=STORE_COMBOS)
def files_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with combo_server(request, tmp_path_factory.mktemp(f"files-{request.param}")) as live:
        yield live


_HANDED_OUT: list[httpx.Client] = []


def handed_out(client: httpx.Client) -> httpx.Client:
    """`client`, closed when the running test ends (an unclosed one is a ResourceWarning)."""
    _HANDED_OUT.append(client)
    return client


@pytest.fixture(autouse=True)
def _close_handed_out_clients() -> Iterator[None]:
    start = len(_HANDED_OUT)
    yield
    for client in _HANDED_OUT[start:]:
        client.close()
    del _HANDED_OUT[start:]


@dataclass
class Org:
    """A fresh organization with its admin; `api` is an httpx client already authenticated."""

    server: LiveServer
    id: str
    admin_id: int
    admin_email: str
    token: str
    api: httpx.Client

    def path(self, suffix: str) -> str:
        return f"/organizations/{self.id}{suffix}"

    def client(self, token: str | None) -> httpx.Client:
        """A client of this org's server, closed when the test ends."""
        return handed_out(self.server.client(token))

    def member(self, role: str) -> tuple[int, httpx.Client]:
        """A new member with `role` (admin/standard/light) and a client acting as them."""
        email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
        made = self.api.post(
            f"/applications/{self.id}/users",
            json={"email": email, "first_name": role.title(), "last_name": "Member", "role": role},
        )
        assert made.status_code == 201, made.text
        token = self.api.post(f"/applications/{self.id}/users/{email}/token")
        assert token.status_code == 200, token.text
        return made.json()["data"]["id"], self.client(token.json()["access_token"])


@contextmanager
def new_org(server: LiveServer) -> Iterator[Org]:
    boot = server.new_org()
    with server.client(boot.token) as api:
        yield Org(server, boot.org_id, boot.user_id, boot.email, boot.token, api)


@pytest.fixture
def org(server: LiveServer) -> Iterator[Org]:
    with new_org(server) as made:
        yield made


@pytest.fixture
def files_org(files_server: LiveServer) -> Iterator[Org]:
    """A fresh organization on each database and store."""
    with new_org(files_server) as made:
        yield made


@pytest.fixture
def emitted() -> Iterator[list[events.Event]]:
    """Every domain event the live servers emit while the test runs (they run in this process)."""
    seen: list[events.Event] = []

    async def record(_: AsyncSession, event: events.Event) -> None:
        seen.append(event)

    events.subscribe(record)
    try:
        yield seen
    finally:
        events.unsubscribe(record)
