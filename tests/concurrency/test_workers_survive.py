"""`checkrun serve --workers 2` under load keeps its workers: uvicorn's supervisor replaces a
worker that does not answer its health check in time (5 s by default), and a busy worker on a
loaded machine used to miss it. The test loads both workers and, meanwhile, holds one still
(SIGSTOP) for longer than uvicorn's default: a worker that busy must be kept, not replaced."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import CLIENT_HEADERS, _drop_postgres, _postgres_url, free_port
from tests.support.serving import children, serve_subprocess
from tests.test_cli import ENV

LOAD_SECONDS = 10
STALLED_SECONDS = 7  # longer than uvicorn's default health-check timeout
CLIENTS = 12


def _org(env: dict[str, str], data_dir: Path) -> tuple[str, str]:
    """The organization and token `checkrun init --json` makes."""
    done = subprocess.run(
        [sys.executable, "-m", "checkrun", "init", "--data-dir", str(data_dir), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=True,
    )
    made = json.loads(done.stdout)
    return str(made["org_id"]), str(made["token"])


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    database_url = _postgres_url() if request.param == "postgresql" else None
    made = {**ENV, "CHECKRUN_RATE_LIMIT_PER_MINUTE": "0", "CHECKRUN_DATA_DIR": str(tmp_path)}
    if database_url:
        made["CHECKRUN_DATABASE_URL"] = database_url
    try:
        yield made
    finally:
        if database_url:
            _drop_postgres(database_url)


def _workers(pid: int) -> set[int]:
    """The serving workers among the children (not multiprocessing's resource tracker)."""
    return {
        child
        for child in children(pid)
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
    }


def _hammer(base: str, org_id: str, token: str, until: float, failures: list[str]) -> None:
    headers = {**CLIENT_HEADERS, "Authorization": f"Bearer {token}"}
    org = f"/api/organizations/{org_id}"
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        checklist = client.post(org + "/checklists", json={"title": "Load", "type": "procedure"})
        checklist_id = checklist.json()["data"]["id"]
        for i in range(5):
            client.post(org + f"/checklists/{checklist_id}/steps", json={"title": f"Step {i}"})
        while time.monotonic() < until:
            for response in (
                client.post(org + "/runs", json={"checklist_id": checklist_id}),
                client.get(org + "/runs?with=tasks"),
                client.get(org + "/me/tasks"),
            ):
                if response.status_code >= 500:
                    failures.append(f"{response.status_code} {response.text[:200]}")


def test_two_workers_keep_their_processes_under_load(env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    org_id, token = _org(env, tmp_path)
    with serve_subprocess(["--workers", "2", "--port", str(port)], env, port, timeout=240) as (
        base,
        proc,
    ):
        workers = _workers(proc.pid)
        assert len(workers) == 2, workers
        failures: list[str] = []
        until = time.monotonic() + LOAD_SECONDS
        threads = [
            threading.Thread(target=_hammer, args=(base, org_id, token, until, failures))
            for _ in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        stalled = min(workers)
        os.kill(stalled, signal.SIGSTOP)
        try:
            time.sleep(STALLED_SECONDS)
        finally:
            with contextlib.suppress(ProcessLookupError):  # replaced: the assert below says so
                os.kill(stalled, signal.SIGCONT)
        for thread in threads:
            thread.join()
        # The supervisor checks every half second: give it a last look at the workers.
        time.sleep(1)
        assert _workers(proc.pid) == workers
        assert proc.poll() is None
        assert failures == []
