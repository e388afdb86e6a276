"""Liveness and readiness: /api/ready makes a real round trip to the database, the file store
(local or S3) and Redis when configured; a dependency that goes away shows there within
seconds (503, naming it) and its return too, and no check can make it hang."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from checkrun.app import create_app
from checkrun.config import Settings
from checkrun.openapi import install_openapi
from tests.conftest import LiveServer, free_port, live_server

SECONDS = 15  # how long a change may take to show (checks are cached for one second)


def ready(server: LiveServer) -> tuple[int, dict[str, Any]]:
    answer = httpx.get(server.api + "/ready", timeout=10)
    return answer.status_code, answer.json()


def wait_for_ready(server: LiveServer, status: int) -> dict[str, Any]:
    deadline = time.monotonic() + SECONDS
    while True:
        code, body = ready(server)
        if code == status:
            return body
        assert time.monotonic() < deadline, f"still {code} {body}, waited for {status}"
        time.sleep(0.2)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def test_health_and_ready_answer_ok_with_each_dependency(server: LiveServer) -> None:
    assert httpx.get(server.api + "/health").json() == {"status": "ok"}
    code, body = ready(server)
    assert code == 200, body
    assert body == {
        "status": "ok",
        "checks": {"database": {"status": "ok"}, "store": {"status": "ok"}},
    }


def test_the_local_store_going_away_shows_and_its_return_too(tmp_path: Path) -> None:
    with live_server("sqlite", tmp_path) as server:
        assert ready(server)[0] == 200
        files = server.files_dir
        files.rename(tmp_path / "moved")
        try:
            body = wait_for_ready(server, 503)
        finally:
            (tmp_path / "moved").rename(files)
        assert body["status"] == "unavailable"
        assert body["checks"]["store"] == {"status": "down", "error": "FileNotFoundError"}
        assert body["checks"]["database"] == {"status": "ok"}
        wait_for_ready(server, 200)


def test_s3_stopped_mid_test_is_named_and_recovers(tmp_path: Path, aws_env: None) -> None:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    bucket = f"checkrun-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    settings = {"storage_url": f"s3://{bucket}/files", "s3_endpoint_url": endpoint}
    try:
        with live_server("sqlite", tmp_path, **settings) as server:
            wait_for_ready(server, 200)
            moto.stop()
            body = wait_for_ready(server, 503)
            assert body["checks"]["store"]["status"] == "down"
            assert body["checks"]["database"] == {"status": "ok"}
            moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
            moto.start()
            assert wait_for_ready(server, 200)["checks"]["store"] == {"status": "ok"}
    finally:
        moto.stop()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(16)
        yield int(listening.getsockname()[1])


def test_a_store_that_never_answers_is_down_within_the_timeout(
    tmp_path: Path, aws_env: None, silent_port: int
) -> None:
    settings = {
        "storage_url": "s3://nowhere/files",
        "s3_endpoint_url": f"http://127.0.0.1:{silent_port}",
        "ready_timeout_seconds": 0.5,
    }
    with live_server("sqlite", tmp_path, **settings) as server:
        started = time.monotonic()
        code, body = ready(server)
        assert time.monotonic() - started < 3
    assert code == 503
    assert body["checks"]["store"] == {"status": "down", "error": "timeout"}


def test_redis_on_a_closed_port_is_named(tmp_path: Path) -> None:
    redis_url = f"redis://127.0.0.1:{free_port()}/0"
    with live_server("sqlite", tmp_path, redis_url=redis_url) as server:
        code, body = ready(server)
        # Rate limits fail open meanwhile: the API still answers.
        assert httpx.get(server.api + "/health").status_code == 200
    assert code == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"] == {"status": "down", "error": "ConnectionError"}
    assert body["checks"]["database"] == body["checks"]["store"] == {"status": "ok"}


def test_probes_are_not_rate_limited(tmp_path: Path) -> None:
    with live_server("sqlite", tmp_path, rate_limit_per_minute=2) as server:
        answers = [httpx.get(server.api + path) for path in ("/ready", "/health") * 3]
        others = [httpx.get(server.api + "/nowhere").status_code for _ in range(3)]
    assert [a.status_code for a in answers] == [200] * 6
    assert others == [404, 404, 429]  # the limit itself is on


def test_the_document_declares_ready_as_it_declares_health(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    install_openapi(app)
    paths = app.openapi()["paths"]
    ready_op, health_op = paths["/ready"]["get"], paths["/health"]["get"]
    assert ready_op["security"] == health_op["security"] == []
    assert set(ready_op["responses"]) == {"200", "503", "429"}
    ok = ready_op["responses"]["200"]["content"]["application/json"]["schema"]
    down = ready_op["responses"]["503"]["content"]["application/json"]["schema"]
    assert ok == down and ok["required"] == ["status", "checks"]
    assert not any(path.startswith(("/metrics", "/docs")) for path in paths)
