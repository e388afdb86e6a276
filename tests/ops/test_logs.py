"""The log of `checkrun serve`: JSON lines (CHECKRUN_LOG_FORMAT=json), one access line per
request with its request id (the client's when sane, returned as X-Request-Id), route template,
status, duration and actor; events logged inside a request carry its id; no token, no secret
path parameter and no query string is ever written."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from checkrun.kit.logs import JsonFormatter, TextFormatter, request_id
from tests.conftest import CLIENT_HEADERS, free_port
from tests.test_cli import ENV

SIGN_IN_SECRET = "s3cretlinktoken0123456789"


@dataclass
class Served:
    base: str
    token: str
    org_id: str
    stderr: Path


@contextmanager
def serve_logging(tmp_path: Path, **env: str) -> Iterator[Served]:
    """`checkrun serve` with its stderr in a file, read once the process has stopped."""
    port = free_port()
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    variables = {**ENV, "CHECKRUN_LOG_FORMAT": "json", **env}
    args = ["--port", str(port), "--data-dir", str(tmp_path / "data")]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "checkrun", "serve", *args],
            env=variables,
            stdout=stdout,
            stderr=stderr,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(proc, base)
        # The banner comes once the server answers: a moment after the first health check.
        deadline = time.monotonic() + 30
        while "org id" not in (text := out.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        token = re.search(r"token\s*: (\S+)", text)
        org = re.search(r"org id\s*: (\S+)", text)
        assert token and org, text
        yield Served(base, token.group(1), org.group(1), err)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _wait(proc: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + 90
    while True:
        assert proc.poll() is None, "checkrun serve exited"
        try:
            if httpx.get(base + "/api/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "checkrun serve did not answer"
        time.sleep(0.1)


def lines(path: Path) -> list[dict[str, Any]]:
    """Every line the server wrote to stderr, each of which must be a JSON object."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def access(logged: list[dict[str, Any]], rid: str) -> dict[str, Any]:
    found = [e for e in logged if e["logger"] == "checkrun.access" and e["request_id"] == rid]
    assert len(found) == 1, logged
    return found[0]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    # Redis on a closed port: readiness logs a warning inside the request that found it down.
    with serve_logging(tmp_path, CHECKRUN_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0") as s:
        yield s


def test_json_access_lines_carry_request_id_route_status_duration_and_actor(
    served: Served,
) -> None:
    headers = {**CLIENT_HEADERS, "Authorization": f"Bearer {served.token}"}
    with httpx.Client(base_url=served.base + "/api", headers=headers) as api:
        me = api.get(f"/organizations/{served.org_id}/me")
        listed = api.get(
            f"/organizations/{served.org_id}/checklists",
            headers={"X-Request-Id": "trace-7f3a.1"},
            params={"access_token": served.token},
        )
        bogus = api.get("/health", headers={"X-Request-Id": "no spaces <or> angles"})
        refused = api.get(
            f"/organizations/{served.org_id}/checklists",
            headers={"Authorization": "Bearer not-a-real-token"},
        )
    link = httpx.get(f"{served.base}/app/sign-in/link/{SIGN_IN_SECRET}")
    ready = httpx.get(served.base + "/api/ready")
    assert me.status_code == listed.status_code == bogus.status_code == 200
    assert refused.status_code == 401 and ready.status_code == 503
    user_id = me.json()["data"]["id"]
    assert listed.headers["x-request-id"] == "trace-7f3a.1"
    assert re.fullmatch(r"[0-9a-f]{32}", bogus.headers["x-request-id"])
    time.sleep(0.5)  # the lines of the last requests reach the file

    logged = lines(served.stderr)
    line = access(logged, "trace-7f3a.1")
    assert line["level"] == "info" and line["method"] == "GET"
    assert line["route"] == "/api/organizations/{org_id}/checklists"
    assert line["path"] == f"/api/organizations/{served.org_id}/checklists"
    assert line["status"] == 200 and line["duration_ms"] > 0
    assert (line["user_id"], line["org_id"]) == (user_id, served.org_id)
    anonymous = access(logged, bogus.headers["x-request-id"])
    assert anonymous["user_id"] is None and anonymous["route"] == "/api/health"
    assert access(logged, refused.headers["x-request-id"])["status"] == 401
    assert access(logged, refused.headers["x-request-id"])["user_id"] is None
    assert access(logged, link.headers["x-request-id"])["path"] == "/app/sign-in/link/-"
    events = [e for e in logged if e["logger"] == "checkrun.health"]
    assert events and events[0]["request_id"] == ready.headers["x-request-id"]
    assert not any(e["logger"] == "uvicorn.access" for e in logged)

    text = served.stderr.read_text()
    assert served.token not in text and "not-a-real-token" not in text
    assert SIGN_IN_SECRET not in text and "access_token" not in text


def test_text_lines_show_the_same_fields() -> None:
    record = logging.LogRecord("checkrun.access", logging.INFO, __file__, 1, "request", (), None)
    record.fields = {"request_id": "abc", "route": "/api/health", "status": 200, "user_id": None}
    reset = request_id.set("abc")
    try:
        text = TextFormatter().format(record)
        data = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(reset)
    assert text.endswith("checkrun.access: request request_id=abc route=/api/health status=200")
    assert data["request_id"] == "abc" and data["status"] == 200 and data["user_id"] is None
