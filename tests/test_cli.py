"""The `checkrun` command line, run as a user would: a subprocess on a temporary data dir."""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from checkrun import migrate
from tests.conftest import CLIENT_HEADERS, free_port

ENV = {k: v for k, v in os.environ.items() if not k.startswith("CHECKRUN_")}


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "checkrun", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
    )


def cli_json(data_dir: Path, *args: str) -> dict[str, Any]:
    done = cli(data_dir, *args, "--json")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    parsed: dict[str, Any] = json.loads(lines[0])
    return parsed


@contextmanager
def serving(
    data_dir: Path, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Iterator[tuple[str, queue.Queue[str]]]:
    """`checkrun serve ARGS` on a free port (with `env` added to the environment, in `cwd`);
    yields its API base and a queue of its stdout lines."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "checkrun", "serve", "--data-dir", str(data_dir)]
        + ["--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**ENV, **(env or {})},
        cwd=cwd,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    out = proc.stdout

    def pump() -> None:
        for line in out:
            lines.put(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    base = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "checkrun serve exited"
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "checkrun serve did not answer"
            time.sleep(0.1)
        yield base, lines
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        reader.join(timeout=10)  # every line the server printed is in `lines` now
        out.close()


def me(base: str, token: str, org_id: str) -> httpx.Response:
    headers = {**CLIENT_HEADERS, "Authorization": f"Bearer {token}"}
    return httpx.get(f"{base}/organizations/{org_id}/me", headers=headers, timeout=30)


def stored_hashes(data_dir: Path) -> list[tuple[str, ...]]:
    with sqlite3.connect(data_dir / "checkrun.db") as db:
        return [tuple(str(v) for v in row) for row in db.execute("SELECT * FROM access_tokens")]


def test_init_twice_keeps_the_org_and_issues_new_working_tokens(tmp_path: Path) -> None:
    first = cli_json(tmp_path, "init")
    assert set(first) == {"base_url", "org_id", "user_id", "email", "token"}
    assert re.fullmatch(r"[0-9a-f]{32}", first["org_id"])
    assert isinstance(first["user_id"], int)
    assert first["email"] == "admin@example.com"
    assert first["base_url"].endswith("/api")

    second = cli_json(tmp_path, "init")
    assert second["org_id"] == first["org_id"]
    assert second["user_id"] == first["user_id"]
    assert second["token"] != first["token"]

    issued = cli_json(tmp_path, "token", "create", "--email", "admin@example.com")
    assert issued["org_id"] == first["org_id"]
    assert issued["token"] not in (first["token"], second["token"])

    with serving(tmp_path) as (base, _):
        for token in (first["token"], second["token"], issued["token"]):
            response = me(base, token, first["org_id"])
            assert response.status_code == 200, response.text
            assert response.json()["data"]["id"] == first["user_id"]
        assert me(base, "ckr_not-a-token", first["org_id"]).status_code == 401


def test_tokens_are_stored_hashed(tmp_path: Path) -> None:
    tokens = [cli_json(tmp_path, "init")["token"], cli_json(tmp_path, "init")["token"]]
    rows = stored_hashes(tmp_path)
    assert len(rows) == 2
    flat = " ".join(" ".join(row) for row in rows)
    for token in tokens:
        assert token not in flat
        assert token.removeprefix("ckr_") not in flat
        assert hashlib.sha256(token.encode()).hexdigest() in flat


def test_token_create_for_unknown_email_fails(tmp_path: Path) -> None:
    cli_json(tmp_path, "init")
    done = cli(tmp_path, "token", "create", "--email", "nobody@x.com")
    assert done.returncode != 0
    assert "nobody@x.com" in done.stderr
    assert done.stdout == ""
    assert len(stored_hashes(tmp_path)) == 1


def test_token_create_plain_prints_only_the_token(tmp_path: Path) -> None:
    boot = cli_json(tmp_path, "init", "--email", "Owner@Example.com")
    assert boot["email"] == "owner@example.com"
    done = cli(tmp_path, "token", "create", "--email", "OWNER@example.com")
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert token.startswith("ckr_") and "\n" not in token
    with serving(tmp_path) as (base, _):
        assert me(base, token, boot["org_id"]).json()["data"]["id"] == boot["user_id"]


def test_serve_on_an_empty_data_dir_prints_a_working_token_once(tmp_path: Path) -> None:
    with serving(tmp_path) as (base, lines):
        found: dict[str, str] = {}
        deadline = time.monotonic() + 30
        while "token" not in found:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            match = re.match(r"\s*(org id|token)\s*:\s*(\S+)", line)
            if match:
                found[match.group(1)] = match.group(2)
        assert re.fullmatch(r"[0-9a-f]{32}", found["org id"])
        response = me(base, found["token"], found["org id"])
        assert response.status_code == 200, response.text
        assert response.json()["data"]["email"] == "admin@example.com"
    assert found["token"] not in " ".join(" ".join(r) for r in stored_hashes(tmp_path))

    with serving(tmp_path) as (base, lines):
        assert me(base, found["token"], found["org id"]).status_code == 200
    later = []
    while not lines.empty():
        later.append(lines.get())
    assert not any("token" in line for line in later), later
    again = cli_json(tmp_path, "init")
    assert again["org_id"] == found["org id"]


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    done = cli(tmp_path, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    # Each migration is named on stderr as it starts: a long one is not a silent wait.
    steps = [line for line in done.stderr.splitlines() if line.startswith("db upgrade: ")]
    assert len(steps) == len(migrate.script_revisions()) and "-> 0011_reads" in done.stderr
    with sqlite3.connect(tmp_path / "checkrun.db") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert {"organizations", "users", "access_tokens", "assets"} <= tables
    assert cli(tmp_path, "db", "upgrade").returncode == 0


def test_storage_gc_dry_run_reports_json(tmp_path: Path) -> None:
    cli_json(tmp_path, "init")
    done = cli(tmp_path, "storage", "gc", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "dry_run": True,
        "orphan_bytes": [],
        "records_without_bytes": [],
    }


def test_serve_with_a_bad_smtp_url_says_so_in_one_line_and_makes_nothing(tmp_path: Path) -> None:
    for url in ("ftp://mail.example.com", "smtp://", "smtp://mail.example.com:notaport"):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "checkrun",
                "serve",
                "--data-dir",
                str(tmp_path),
                "--port",
                str(free_port()),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={**ENV, "CHECKRUN_SMTP_URL": url},
        )
        assert done.returncode == 2, (url, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: CHECKRUN_SMTP_URL"), lines
        assert "token" not in done.stdout
        assert not (tmp_path / "checkrun.db").exists()
