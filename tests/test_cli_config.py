"""The command line's configuration, run as a user would: `--version`, a `.env` file in the
working directory (the environment wins), help for every option, and `serve` behind a proxy
(`--root-path`, `--forwarded-allow-ips` reaching uvicorn), over HTTP."""

from __future__ import annotations

import argparse
import http.client
import json
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from queue import Queue
from typing import Any

import httpx

from checkrun import cli
from tests.conftest import CLIENT_HEADERS
from tests.test_cli import ENV, serving

ROOT = Path(__file__).resolve().parents[1]


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "checkrun", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**ENV, **(env or {})},
    )


def test_version_is_the_packages(tmp_path: Path) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    done = run("--version", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"checkrun {version}\n"


def test_dotenv_in_the_working_directory_is_read_and_the_environment_wins(
    tmp_path: Path,
) -> None:
    (tmp_path / ".env").write_text(
        "# checkrun's settings\n"
        "CHECKRUN_DATA_DIR=from-dotenv\n"
        "CHECKRUN_PUBLIC_URL=https://dotenv.example.com\n"
        'CHECKRUN_ORG_NAME="Dotenv Works"\n'
        "CHECKRUN_EMAIL=dotenv@example.com\n"
    )
    env = {"CHECKRUN_PUBLIC_URL": "https://env.example.com"}
    done = run("init", "--json", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout)
    assert made["base_url"] == "https://env.example.com/api"
    assert made["email"] == "dotenv@example.com"
    assert (tmp_path / "from-dotenv" / "checkrun.db").is_file()
    assert not (tmp_path / "checkrun-data").exists()

    listed = run("org", "list", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [org["name"] for org in json.loads(listed.stdout)["organizations"]] == ["Dotenv Works"]
    elsewhere = run("org", "list", "--json", cwd=tmp_path / "from-dotenv")
    assert json.loads(elsewhere.stdout)["organizations"] == []  # no .env there: ./checkrun-data


def _undocumented(parser: argparse.ArgumentParser, path: str) -> list[str]:
    missing = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                if not choice.help:
                    missing.append(f"{path} {choice.dest}")
            for name, child in action.choices.items():
                missing += _undocumented(child, f"{path} {name}")
        elif not action.help or action.help == argparse.SUPPRESS:
            missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    return missing


def test_every_command_and_option_has_help(tmp_path: Path) -> None:
    assert _undocumented(cli.parser(), "checkrun") == []
    shown = run("serve", "--help", cwd=tmp_path).stdout
    for flag in ("--forwarded-allow-ips", "--root-path", "--debug", "--data-dir"):
        assert re.search(rf"{flag}\b.*\n?\s+\S", shown), (flag, shown)


def _first_start(lines: Queue[str]) -> tuple[str, str]:
    """The org id and token the banner of a first start prints."""
    found: dict[str, str] = {}
    deadline = time.monotonic() + 60
    while "token" not in found:
        line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        if match := re.match(r"\s*(org id|token)\s*:\s*(\S+)", line):
            found[match.group(1)] = match.group(2)
    return found["org id"], found["token"]


def _client(token: str | None = None, source: str = "127.0.0.1", **headers: str) -> httpx.Client:
    """A client whose connections come from `source` (any 127.x address is this machine)."""
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(
        transport=httpx.HTTPTransport(local_address=source),
        headers={**CLIENT_HEADERS, **auth, **headers},
        timeout=30,
    )


def _next_link(base: str, org: str, token: str, source: str) -> Any:
    with _client(token, source, **{"X-Forwarded-Proto": "https"}) as client:
        page = client.get(f"{base}/organizations/{org}/tags", params={"per_page": 1})
    assert page.status_code == 200, page.text
    return page.json()["meta"]["pagination"]["links"]["next"]


def _remaining(base: str, org: str, source: str, forwarded_for: str) -> int:
    """X-RateLimit-Remaining of a request without a token: counted per client address."""
    with _client(None, source, **{"X-Forwarded-For": forwarded_for}) as client:
        answer = client.get(f"{base}/organizations/{org}/me")
    assert answer.status_code == 401, answer.text
    return int(answer.headers["X-RateLimit-Remaining"])


def test_serve_behind_a_proxy_honours_root_path_and_forwarded_headers(tmp_path: Path) -> None:
    # Only the proxy at 127.0.0.2 is believed: without the flag uvicorn believes 127.0.0.1.
    flags = ("--root-path", "/x", "--forwarded-allow-ips", "127.0.0.2")
    with serving(tmp_path, *flags) as (base, lines):
        org, token = _first_start(lines)
        with _client(token) as client:
            for title in ("first", "second"):
                made = client.post(f"{base}/organizations/{org}/tags", json={"title": title})
                assert made.status_code in (200, 201), made.text
        origin = base.removesuffix("/api")
        direct = _next_link(base, org, token, "127.0.0.1")
        assert direct.startswith(f"{origin}/x/api/organizations/{org}/tags?"), direct
        proxied = _next_link(base, org, token, "127.0.0.2")
        assert proxied == direct.replace("http://", "https://", 1)

        # Believed: each forwarded address has a count of its own.
        first = _remaining(base, org, "127.0.0.2", "203.0.113.1")
        assert _remaining(base, org, "127.0.0.2", "203.0.113.2") == first
        # Not believed: both count against the connection's address.
        before = _remaining(base, org, "127.0.0.1", "203.0.113.3")
        assert _remaining(base, org, "127.0.0.1", "203.0.113.4") == before - 1


def test_serve_reads_dotenv_in_its_working_directory(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("CHECKRUN_ROOT_PATH=/from-dotenv\n")
    with serving(tmp_path / "data", cwd=tmp_path) as (base, _):
        docs = httpx.get(base + "/docs", timeout=30)
    assert docs.status_code == 200
    assert "/from-dotenv/api/openapi.json" in docs.text


def _health_on(conn: http.client.HTTPConnection) -> int:
    conn.request("GET", "/api/health")
    answer = conn.getresponse()
    answer.read()
    return answer.status


def test_serve_keeps_an_idle_connection_longer_than_client_pools_do(tmp_path: Path) -> None:
    # uvicorn's own 5 s closed connections that httpx's pool (5 s) was about to reuse.
    with serving(tmp_path) as (base, _):
        url = httpx.URL(base)
        conn = http.client.HTTPConnection(url.host, url.port, timeout=10)
        try:
            assert _health_on(conn) == 200
            first = conn.sock
            time.sleep(6)
            # On a closed connection this raises RemoteDisconnected (no quiet reconnect).
            assert _health_on(conn) == 200
            assert conn.sock is first
        finally:
            conn.close()


def test_the_served_app_collects_garbage_less_often_than_python_does(tmp_path: Path) -> None:
    # What `checkrun serve` (and each of its workers) builds: the factory uvicorn calls.
    probe = (
        "import gc, json; from checkrun.app import create_app_from_env; "
        "default = gc.get_threshold(); create_app_from_env(); "
        "print(json.dumps([default, gc.get_threshold(), gc.get_freeze_count()]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**ENV, "CHECKRUN_DATA_DIR": str(tmp_path / "data")},
    )
    assert done.returncode == 0, done.stderr
    default, served, frozen = json.loads(done.stdout.splitlines()[-1])
    assert served[0] >= 10 * default[0]
    assert frozen > 10_000  # the modules and the app built at start are left out of collections
