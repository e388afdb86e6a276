"""The same bursts against `checkrun serve --workers 4`: four processes on one database (SQLite
or PostgreSQL), each with its own webhook worker. Exactly once must hold across processes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from checkrun.config import Settings
from tests.concurrency import test_exactly_once as once
from tests.conftest import LiveServer, Org, _drop_postgres, _postgres_url, free_port, new_org
from tests.support.serving import serve_process
from tests.test_cli import ENV
from tests.webhooks.conftest import FAST, Receiver

WORKERS = 4


def _serve(data_dir: Path, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    with serve_process(
        ["--workers", str(WORKERS), "--port", str(port), "--data-dir", str(data_dir)], env, port
    ) as base:
        yield base


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def workers_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp(f"workers-{request.param}")
    database_url = _postgres_url() if request.param == "postgresql" else None
    env = {**ENV, **{f"CHECKRUN_{k.upper()}": str(v) for k, v in FAST.items()}}
    if database_url:
        env["CHECKRUN_DATABASE_URL"] = database_url
    try:
        done = subprocess.run(
            [sys.executable, "-m", "checkrun", "db", "upgrade", "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert done.returncode == 0, done.stderr
        for base in _serve(data_dir, env):
            yield LiveServer(
                request.param, Settings(data_dir=data_dir, database_url=database_url), base
            )
    finally:
        if database_url:
            _drop_postgres(database_url)


BURSTS: dict[str, Callable[[Org, Receiver], None]] = {
    "one_task": once.test_one_task_completed_at_once_completes_once,
    "everyone_must_complete": (
        once.test_everyone_must_complete_completes_once_when_all_complete_at_once
    ),
    "last_two_tasks": once.test_the_last_two_tasks_completed_at_once_complete_the_run_once,
    "kickoff": once.test_kickoff_form_completed_at_once_completes_the_run_once,
}


@pytest.mark.parametrize("case", list(BURSTS))
def test_bursts_on_four_workers(workers_server: LiveServer, receiver: Receiver, case: str) -> None:
    with new_org(workers_server) as org:
        BURSTS[case](org, receiver)
