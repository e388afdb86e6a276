"""A live server per database with quick webhook retries, and a real local HTTP receiver."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import text

from checkrun.db import make_engine
from tests.conftest import LiveServer, Org, live_server

# Small settings so that retries and dead letters happen within a test.
FAST = {
    "webhook_max_attempts": 3,
    "webhook_backoff_seconds": 0.05,
    "webhook_backoff_max_seconds": 0.2,
    "webhook_timeout_seconds": 1.5,
    "webhook_poll_seconds": 0.2,
}
WAIT = 30.0  # how long a test waits for something that should happen at all


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """Overrides the suite's server for tests/webhooks/: same app, quick retries."""
    with live_server(
        request.param, tmp_path_factory.mktemp(f"hooks-{request.param}"), **FAST
    ) as live:
        yield live


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str:
        return self.headers[name.lower()]


class Receiver:
    """Records every POST. Per path it can fail the first N requests, always answer a status,
    or hold requests until released."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.failures: dict[str, int] = {}
        self.statuses: dict[str, int] = {}
        self.gates: dict[str, threading.Event] = {}
        self.held = 0
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver._record(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                status = receiver._status(self.path)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"no" if status >= 300 else b"ok")
                except OSError:  # the sender gave up (timeout)
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.port = self.http.server_address[1]
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def hold(self, path: str) -> threading.Event:
        self.gates[path] = threading.Event()
        return self.gates[path]

    def _record(self, received: Received) -> None:
        with self._changed:
            self.received.append(received)
            self._changed.notify_all()

    def _status(self, path: str) -> int:
        gate = self.gates.get(path)
        if gate is not None:
            with self._changed:
                self.held += 1
                self._changed.notify_all()
            gate.wait(WAIT * 2)
            with self._changed:
                self.held -= 1
        with self._changed:
            if self.failures.get(path, 0) > 0:
                self.failures[path] -= 1
                return 500
        return self.statuses.get(path, 200)

    def wait(self, check: Callable[[], bool]) -> None:
        deadline = time.monotonic() + WAIT
        with self._changed:
            while not check():
                left = deadline - time.monotonic()
                assert left > 0, f"receiver: condition not met; got {self.paths()}"
                self._changed.wait(left)

    def at(self, path: str, count: int = 1) -> list[Received]:
        """Waits for `count` requests to `path` and answers all of them so far."""
        self.wait(lambda: len(self.to(path)) >= count)
        return self.to(path)

    def to(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def paths(self) -> list[str]:
        return [r.path for r in self.received]

    def close(self) -> None:
        for gate in self.gates.values():
            gate.set()
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    try:
        yield made
    finally:
        made.close()


def rows(org: Org, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Rows of the server's database (the outbox is not exposed over HTTP)."""

    async def work() -> list[dict[str, Any]]:
        engine = make_engine(org.server.settings.resolved_database_url)
        try:
            async with engine.connect() as conn:
                result = await conn.execute(text(sql), params)
                return [dict(r._mapping) for r in result]
        finally:
            await engine.dispose()

    return asyncio.run(work())


def deliveries(org: Org, where: str = "1=1", **params: Any) -> list[dict[str, Any]]:
    return rows(
        org,
        f"SELECT * FROM webhook_deliveries WHERE org_id = :oid AND {where} ORDER BY created_at, id",
        oid=org.id,
        **params,
    )


def wait_for_rows(org: Org, where: str, count: int = 1, **params: Any) -> list[dict[str, Any]]:
    deadline = time.monotonic() + WAIT
    while True:
        found = deliveries(org, where, **params)
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, f"outbox: {deliveries(org)}"
        time.sleep(0.05)
